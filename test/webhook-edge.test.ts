/**
 * The Meta webhook edge (SPEC §4) against the real service and a real
 * PostgreSQL: what is answered, what is stored in control.webhook_inbox, what
 * is logged. Deliveries come from the Meta simulator, signed like Meta signs.
 */
import { createHash } from "node:crypto";
import http from "node:http";
import http2 from "node:http2";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService, Provider } from "../gen/whatsapp/v1/account_pb.js";
import type { InboxRow } from "../src/adapters/postgres/inbox/inbox-writer.js";
import {
  contact,
  deliver,
  deliverAll,
  inboundScenario,
  metaEnvelope,
  metaFixture,
  messagesChange,
  metaFixtureNames,
  metaJson,
  metaSignature,
  REAL_CAPTURE,
  retarget,
  signDelivery,
  textMessage,
  verifyWebhook,
} from "./support/meta-simulator.js";
import { clientFor, closeClientSessions, startTestService, uniqueTenant, type TestService } from "./support/service.js";

// The reference's test vector secret, so Meta's real captured bytes verify as they are.
const APP_SECRET = REAL_CAPTURE.appSecret;
const VERIFY_TOKEN = "verify-token-for-tests";
const PHONE_NUMBER_ID = "106540352242922";

interface InboxRowView {
  id: string;
  path: string;
  account_hint: string | null;
  headers: Record<string, string>;
  body: Buffer;
  signature_valid: boolean;
  status: string;
}

function textDelivery(body = "Hola, quiero un café 😮") {
  return metaEnvelope("102290129340398", [
    messagesChange({
      phoneNumberId: PHONE_NUMBER_ID,
      contacts: [contact("16505551234", "José Nuñez")],
      messages: [textMessage({ from: "16505551234", body })],
    }),
  ]);
}

/** Sends raw bytes with node:http and no Content-Length (chunked), the way a streaming client would. */
function postChunked(url: string, chunks: Buffer[], headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", headers: { "content-type": "application/json", ...headers } });
    req.on("response", (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe("Meta simulator serialisation", () => {
  it("when Meta's real captured body is parsed and re-serialised, then the bytes and the reference's signature are reproduced exactly", () => {
    const reserialised = Buffer.from(metaJson(JSON.parse(REAL_CAPTURE.body.toString("ascii"))), "ascii");
    expect(reserialised.equals(REAL_CAPTURE.body)).toBe(true);
    expect(metaSignature(reserialised, REAL_CAPTURE.appSecret)).toBe(REAL_CAPTURE.signature);
  });

  it("when text has emoji, accents, DEL, control characters and slashes, then it is escaped like Meta (lowercase, surrogate pairs, \\/)", () => {
    expect(metaJson({ t: "café 😮 a/b \u007f\n\"" })).toBe(String.raw`{"t":"caf\u00e9 \ud83d\ude2e a\/b \u007f\n\""}`);
  });

  it("when any captured fixture is serialised, then the result is pure ASCII and parses back to the same value", () => {
    for (const name of metaFixtureNames()) {
      const value: unknown = metaFixture(name);
      const bytes = Buffer.from(metaJson(value), "utf8");
      expect(bytes.every((b) => b < 0x80)).toBe(true);
      expect(JSON.parse(bytes.toString("ascii"))).toEqual(value);
    }
  });
});

describe("Meta webhook edge", () => {
  let svc: TestService;
  let sql: postgres.Sql;
  let url: string;

  beforeAll(async () => {
    svc = await startTestService({ env: { META_APP_SECRET: APP_SECRET, META_VERIFY_TOKEN: VERIFY_TOKEN, WORKERS: "none" } });
    url = `${svc.service.url}/webhook`;
    sql = postgres(svc.database.url, { max: 2, onnotice: () => {} });
  });
  afterAll(async () => {
    closeClientSessions();
    await sql?.end({ timeout: 5 });
    await svc?.cleanup();
  });

  const inboxCount = async () => Number((await sql`select count(*)::int as n from control.webhook_inbox`)[0]!.n);
  const inboxRow = async (id: string) =>
    (await sql<InboxRowView[]>`select id, path, account_hint, headers, body, signature_valid, status from control.webhook_inbox where id = ${id}`)[0];
  const rowsWithBody = async (body: Buffer) =>
    sql<InboxRowView[]>`select id, path, account_hint, headers, body, signature_valid, status from control.webhook_inbox where body = ${body}`;

  describe("GET verification", () => {
    it("when Meta sends the configured verify token, then 200 echoes the challenge as plain text", async () => {
      const response = await fetch(`${url}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=${VERIFY_TOKEN}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
      expect(await response.text()).toBe("1158201444");
    });

    it("when the token is wrong, the mode is not subscribe or the challenge is missing, then 403", async () => {
      expect((await verifyWebhook(url, { token: "not-the-token" })).status).toBe(403);
      expect((await verifyWebhook(url, { token: VERIFY_TOKEN, mode: "unsubscribe" })).status).toBe(403);
      expect((await fetch(`${url}?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}`)).status).toBe(403);
    });
  });

  describe("POST deliveries", () => {
    it("when a signed delivery arrives, then it is answered 200 only with exactly one pending inbox row holding its exact bytes", async () => {
      const delivery = signDelivery(textDelivery(), APP_SECRET);
      const before = await inboxCount();
      const response = await deliver(url, delivery.body, { appSecret: APP_SECRET });
      expect(response.status).toBe(200);
      expect(JSON.parse(response.text)).toEqual({ status: "received" });
      expect(await inboxCount()).toBe(before + 1);
      const [row] = await rowsWithBody(delivery.body);
      expect(row).toMatchObject({ path: "/webhook", account_hint: PHONE_NUMBER_ID, signature_valid: true, status: "pending" });
      expect(Buffer.compare(row!.body, delivery.body)).toBe(0);
      expect(row!.headers).toMatchObject({ "content-type": "application/json", "user-agent": "facebookexternalua" });
      expect(Object.keys(row!.headers)).not.toContain("x-hub-signature-256");
      expect(svc.service.app.webhookCounters.get("accepted")).toBeGreaterThanOrEqual(1);
    });

    it("when Meta's real captured bytes arrive with the reference's signature, then they are accepted and stored unchanged", async () => {
      const response = await deliver(url, REAL_CAPTURE.body, { appSecret: APP_SECRET, signature: REAL_CAPTURE.signature });
      expect(response.status).toBe(200);
      const rows = await rowsWithBody(REAL_CAPTURE.body);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.account_hint).toBe("1025723653965602");
    });

    it("when a non-ASCII body is signed over its raw UTF-8 bytes (not Meta's escaping), then the signature of those bytes is what counts", async () => {
      const body = Buffer.from(JSON.stringify(retarget(metaFixture("pywa_message__reaction"), { phoneNumberId: PHONE_NUMBER_ID })), "utf8");
      expect(body.some((b) => b > 0x7f)).toBe(true);
      const response = await deliver(url, body, { appSecret: APP_SECRET });
      expect(response.status).toBe(200);
      const rows = await rowsWithBody(body);
      expect(rows).toHaveLength(1);
      expect(Buffer.compare(rows[0]!.body, body)).toBe(0);
    });

    it("when the delivery arrives over HTTP/2, then it is stored and answered the same", async () => {
      const delivery = signDelivery(textDelivery("por h2"), APP_SECRET);
      const session = http2.connect(svc.service.url);
      try {
        const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
          const stream = session.request({ ":method": "POST", ":path": "/webhook", "content-type": "application/json", "x-hub-signature-256": delivery.signature });
          let status = 0;
          let text = "";
          stream.on("response", (headers) => (status = Number(headers[":status"])));
          stream.on("data", (c: Buffer) => (text += c.toString()));
          stream.on("end", () => resolve({ status, text }));
          stream.on("error", reject);
          stream.end(delivery.body);
        });
        expect(answer).toEqual({ status: 200, text: '{"status":"received"}' });
      } finally {
        session.close();
      }
      expect(await rowsWithBody(delivery.body)).toHaveLength(1);
    });

    it("when the body is tampered, the secret is wrong, the header is missing or only sha1= is sent, then 401 and nothing is stored", async () => {
      const delivery = signDelivery(textDelivery(), APP_SECRET);
      const tampered = Buffer.from(delivery.body.toString("ascii").replace("Hola", "Hole"), "ascii");
      const before = await inboxCount();
      const attempts = [
        deliver(url, tampered, { appSecret: APP_SECRET, signature: delivery.signature }),
        deliver(url, delivery.body, { appSecret: "wrong-secret" }),
        deliver(url, delivery.body, { appSecret: APP_SECRET, signature: null }),
        deliver(url, delivery.body, { appSecret: APP_SECRET, signature: null, headers: { "x-hub-signature": "sha1=0123456789abcdef0123456789abcdef01234567" } }),
        deliver(url, delivery.body, { appSecret: APP_SECRET, signature: `sha256=${"0".repeat(64)}` }),
      ];
      for (const response of await Promise.all(attempts)) {
        expect(response.status).toBe(401);
        expect(JSON.parse(response.text)).toEqual({ error: "invalid signature" });
      }
      expect(await inboxCount()).toBe(before);
      const logs = svc.logText();
      expect(logs).toContain('"reason":"signature_mismatch"');
      expect(logs).toContain('"reason":"signature_missing"');
      // Neither the secret, the signature nor the body reaches the logs.
      expect(logs).not.toContain(APP_SECRET);
      expect(logs).not.toContain(delivery.signature.slice(7));
      expect(logs).not.toContain("Hole");
    });

    it("when the signed body is truncated JSON, then 400 and it is stored as malformed for inspection", async () => {
      const full = signDelivery(textDelivery(), APP_SECRET).body;
      const truncated = full.subarray(0, full.length - 7);
      const response = await deliver(url, truncated, { appSecret: APP_SECRET });
      expect(response.status).toBe(400);
      expect(JSON.parse(response.text)).toEqual({ error: "body is not valid JSON" });
      const rows = await rowsWithBody(Buffer.from(truncated));
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: "malformed", signature_valid: true, account_hint: null });
    });

    it("when the body is 2 MiB, then 413 and nothing is stored, whether Content-Length says so or the body just keeps coming", async () => {
      const big = Buffer.alloc(2 * 1024 * 1024, 0x20);
      const before = await inboxCount();
      const declared = await deliver(url, big, { appSecret: APP_SECRET });
      expect(declared.status).toBe(413);
      const streamed = await postChunked(url, Array.from({ length: 32 }, () => big.subarray(0, 64 * 1024)), { "x-hub-signature-256": metaSignature(big, APP_SECRET) });
      expect(streamed.status).toBe(413);
      expect(await inboxCount()).toBe(before);
      expect(svc.logText()).toContain('"reason":"too_large"');
    });

    it("when the signed body is 100,000 nested brackets, then 400 (stored as malformed) and the service keeps serving", async () => {
      const deep = Buffer.from(`{"entry":${"[".repeat(100_000)}`, "ascii");
      const response = await deliver(url, deep, { appSecret: APP_SECRET });
      expect(response.status).toBe(400);
      expect(JSON.parse(response.text).error).toMatch(/nested deeper/);
      expect(await rowsWithBody(deep)).toEqual([expect.objectContaining({ status: "malformed" })]);
      expect((await fetch(`${svc.service.url}/health`)).status).toBe(200);
      expect((await deliver(url, textDelivery(), { appSecret: APP_SECRET })).status).toBe(200);
    });

    it("when the signed body is JSON but not an object, then 400 and stored as malformed", async () => {
      const body = Buffer.from('["not","an","object"]');
      expect((await deliver(url, body, { appSecret: APP_SECRET })).status).toBe(400);
      expect(await rowsWithBody(body)).toEqual([expect.objectContaining({ status: "malformed" })]);
    });

    it("when another method is used, then 405 with Allow", async () => {
      const response = await fetch(url, { method: "PUT", body: "{}" });
      expect(response.status).toBe(405);
      expect(response.headers.get("allow")).toBe("GET, POST");
    });

    it("when 200 deliveries arrive at once, then every one is answered 200 and stored exactly once, in fewer commits than deliveries", async () => {
      const deliveries = Array.from({ length: 200 }, (_, i) => signDelivery(textDelivery(`mensaje ${i} ñ`), APP_SECRET));
      const commitsBefore = svc.service.app.inboxWriter.stats().commits;
      const responses = await deliverAll(url, deliveries, { concurrency: 200 });
      expect(responses.map((r) => r.status)).toEqual(deliveries.map(() => 200));
      const digests = deliveries.map((d) => createHash("md5").update(d.body).digest("hex"));
      const stored = await sql<{ body: Buffer }[]>`select body from control.webhook_inbox where md5(body) = any(${digests})`;
      expect(stored).toHaveLength(200);
      expect(new Set(stored.map((r) => r.body.toString("base64"))).size).toBe(200);
      expect(svc.service.app.inboxWriter.stats().commits - commitsBefore).toBeLessThan(200);
    });

    it("when Meta batches, duplicates and reorders deliveries, then every delivery (duplicates included) is stored once per POST", async () => {
      const scenario = inboundScenario({ appSecret: APP_SECRET, phoneNumberId: PHONE_NUMBER_ID, messages: 120, perDelivery: 7, duplicateRate: 0.3, shuffle: true, seed: 7 });
      const before = await inboxCount();
      const responses = await deliverAll(url, scenario.deliveries, { concurrency: 20 });
      expect(responses.every((r) => r.status === 200)).toBe(true);
      expect(await inboxCount()).toBe(before + scenario.deliveries.length);
      expect(scenario.duplicateCount).toBeGreaterThan(0);
    });
  });

  describe("per-account route /webhook/{account_id}", () => {
    const ACCOUNT_SECRET = "account-own-app-secret";
    const ACCOUNT_VERIFY = "account-own-verify-token";
    let accountId: string;

    beforeAll(async () => {
      const client = clientFor(AccountService, svc.service.url, uniqueTenant("edge"), "connect-json-h1");
      const created = await client.createAccount({
        account: {
          provider: Provider.META,
          displayName: "Own Meta app",
          phoneNumberId: `77${Date.now() % 1_000_000_000}`,
          wabaId: "102290129340398",
          credentials: { accessToken: "EAAG-token", appSecret: ACCOUNT_SECRET, verifyToken: ACCOUNT_VERIFY },
        },
      });
      accountId = created.account!.id;
    });

    it("when signed with the account's own app secret, then 200 and the row carries the account id", async () => {
      const delivery = signDelivery(textDelivery("cuenta propia"), ACCOUNT_SECRET);
      const response = await deliver(`${url}/${accountId}`, delivery.body, { appSecret: ACCOUNT_SECRET });
      expect(response.status).toBe(200);
      expect(await rowsWithBody(delivery.body)).toEqual([expect.objectContaining({ path: `/webhook/${accountId}`, account_hint: accountId, status: "pending" })]);
    });

    it("when signed with the global app secret, then 401 and nothing is stored", async () => {
      const before = await inboxCount();
      expect((await deliver(`${url}/${accountId}`, textDelivery(), { appSecret: APP_SECRET })).status).toBe(401);
      expect(await inboxCount()).toBe(before);
    });

    it("when verifying with the account's token, then 200; with the global token, then 403", async () => {
      expect(await verifyWebhook(`${url}/${accountId}`, { token: ACCOUNT_VERIFY, challenge: "42" })).toEqual({ status: 200, text: "42" });
      expect((await verifyWebhook(`${url}/${accountId}`, { token: VERIFY_TOKEN })).status).toBe(403);
    });

    it("when the account id is unknown or not an id, then 404 and nothing is stored", async () => {
      const before = await inboxCount();
      for (const id of ["0190a0b0-0000-7000-8000-000000000000", "not-an-id"]) {
        const response = await deliver(`${url}/${id}`, textDelivery(), { appSecret: APP_SECRET });
        expect(response.status).toBe(404);
        expect(JSON.parse(response.text)).toEqual({ error: "not found" });
        expect((await verifyWebhook(`${url}/${id}`, { token: VERIFY_TOKEN })).status).toBe(404);
      }
      expect(await inboxCount()).toBe(before);
    });
  });

  it("when the inbox writer stores awkward bytes, headers and nulls on PostgreSQL, then they come back exactly", async () => {
    const app = svc.service.app;
    const base = { provider: "meta", path: "/webhook", status: "malformed" } as const;
    const rows: InboxRow[] = [
      { ...base, id: app.newId(), body: Buffer.from([0x00, 0x5c, 0x22, 0x7b, 0xff]), headers: { "user-agent": 'a "quoted" \\ {agent}' }, accountHint: "NULL", signatureValid: false },
      { ...base, id: app.newId(), body: Buffer.alloc(0), headers: {}, accountHint: null, signatureValid: true },
    ];
    await Promise.all(rows.map((r) => app.inboxWriter.write(r)));
    for (const expected of rows) {
      const stored = await inboxRow(expected.id);
      expect(stored).toMatchObject({ account_hint: expected.accountHint, headers: expected.headers, signature_valid: expected.signatureValid, status: "malformed" });
      expect(Buffer.compare(stored!.body, expected.body)).toBe(0);
    }
  });

  it("when looking a row up by id, then it has the UUIDv7 the edge gave it (time-ordered)", async () => {
    const delivery = signDelivery(textDelivery("orden"), APP_SECRET);
    await deliver(url, delivery.body, { appSecret: APP_SECRET });
    const [row] = await rowsWithBody(delivery.body);
    expect(row!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    expect(await inboxRow(row!.id)).toBeDefined();
  });
});

describe("Meta webhook edge without META_APP_SECRET", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ env: { WORKERS: "none" } });
  });
  afterAll(async () => {
    await svc?.cleanup();
  });

  it("when deliveries arrive, then each is refused 401 and the operator is warned once", async () => {
    for (let i = 0; i < 3; i++) {
      expect((await deliver(`${svc.service.url}/webhook`, textDelivery(), { appSecret: "anything" })).status).toBe(401);
    }
    const warnings = svc.logText().split("\n").filter((l) => l.includes("META_APP_SECRET is not set"));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({ level: "warn" });
    expect((await verifyWebhook(`${svc.service.url}/webhook`, { token: "" })).status).toBe(403);
  });
});

describe("Meta webhook edge when the database is unavailable", () => {
  let svc: TestService;
  let admin: postgres.Sql;
  beforeAll(async () => {
    svc = await startTestService({ env: { META_APP_SECRET: APP_SECRET, WORKERS: "none" } });
    admin = postgres(svc.database.url.replace(/\/[^/]+$/, "/postgres"), { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await admin?.unsafe(`alter database "${svc.database.name}" allow_connections true`).catch(() => {});
    await admin?.end({ timeout: 5 });
    await svc?.cleanup();
  });

  it("when PostgreSQL refuses the service's connections, then deliveries get 503 (Meta retries), /health still answers, and storing resumes once it is back", async () => {
    const url = `${svc.service.url}/webhook`;
    const refused = signDelivery(textDelivery("durante la caída"), APP_SECRET);
    await admin.unsafe(`alter database "${svc.database.name}" allow_connections false`);
    await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${svc.database.name} and pid <> pg_backend_pid()`;

    const during = await deliver(url, refused.body, { appSecret: APP_SECRET });
    expect(during.status).toBe(503);
    expect(JSON.parse(during.text)).toEqual({ error: "temporarily unavailable" });
    expect((await fetch(`${svc.service.url}/health`)).status).toBe(200);
    expect(svc.service.app.webhookCounters.get("unavailable")).toBeGreaterThanOrEqual(1);

    await admin.unsafe(`alter database "${svc.database.name}" allow_connections true`);
    const after = signDelivery(textDelivery("después de la caída"), APP_SECRET);
    expect((await deliver(url, after.body, { appSecret: APP_SECRET })).status).toBe(200);

    const check = postgres(svc.database.url, { max: 1, onnotice: () => {} });
    try {
      const bodies = (await check<{ body: Buffer }[]>`select body from control.webhook_inbox`).map((r) => r.body.toString("ascii"));
      expect(bodies).toContain(after.body.toString("ascii"));
      expect(bodies).not.toContain(refused.body.toString("ascii"));
    } finally {
      await check.end({ timeout: 5 });
    }
    // The cause is logged without the delivery's bytes.
    expect(svc.logText()).toContain("webhook inbox write failed: answered 503");
    expect(svc.logText()).not.toContain("durante");
  });
});
