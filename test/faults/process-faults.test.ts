/**
 * The service process itself under faults: slow and silent clients, thousands
 * of idle connections, SIGKILL in the middle of ingesting, and SIGTERM under
 * load — against a private PostgreSQL cluster and a private nats-server.
 *
 * Load: 200 signed deliveries per second (what two shared cores bear next to
 * the other suites).
 */
import net from "node:net";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { v7 as uuidv7 } from "uuid";

import { SecretBox } from "../../src/adapters/crypto/secret-box.js";
import { PostgresAccountRepository } from "../../src/adapters/postgres/stores/account-repository.js";
import { openDatabase } from "../../src/adapters/postgres/db/database.js";
import { tenantSchemaName } from "../../src/adapters/postgres/db/tenant-scope.js";
import { createMetaAccount, uniqueIds } from "../inbound/support/inbound-harness.js";
import { GraphSimulator } from "../support/graph-simulator.js";
import { contact, deliver, messagesChange, metaEnvelope, textMessage } from "../support/meta-simulator.js";
import { startNatsServer, type NatsTestServer } from "../support/nats-server.js";
import { startPrivatePostgres, type PrivatePostgres } from "../support/private-postgres.js";
import {
  APP_SECRET,
  checkOutcomes,
  eventually,
  httpStatus,
  logLines,
  scalar,
  startServiceProcess,
  startWebhookLoad,
  storedWamids,
  type ServiceProcess,
} from "./support/fault-harness.js";

const RATE = 200;
/** Short limits so the slow-client cases finish quickly; the defaults are in the README. */
const LIMITS = {
  HTTP_HEADERS_TIMEOUT_MS: "2000",
  HTTP_REQUEST_TIMEOUT_MS: "3000",
  HTTP_KEEPALIVE_TIMEOUT_MS: "3000",
  SHUTDOWN_GRACE_MS: "10000",
};

let pg: PrivatePostgres;
let nats: NatsTestServer;
let databaseUrl: string;
let phoneNumberId: string;
let env: Record<string, string>;
let graph: GraphSimulator;
/** The account the mid-send case sends from (its token sealed with the process's key). */
const sender = { ...uniqueIds("midsend"), token: "midsend-token", accountId: "" };
const CUSTOMER = "14155550123";
const started: ServiceProcess[] = [];
const figures: Record<string, unknown> = {};

async function start(): Promise<ServiceProcess> {
  const service = await startServiceProcess(env);
  started.push(service);
  return service;
}

async function pace(ms: number): Promise<void> {
  // The scenario's own clock (how long the load runs before the fault), not a wait for work.
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** A raw client: what the server sent and when it closed the connection. */
function rawClient(port: number) {
  const socket = net.connect(port, "127.0.0.1");
  let received = "";
  let closedAt: number | undefined;
  socket.on("data", (c: Buffer) => (received += c.toString()));
  socket.on("error", () => {});
  const closed = new Promise<number>((resolve) =>
    socket.once("close", () => {
      closedAt = Date.now();
      resolve(closedAt);
    }),
  );
  return { socket, received: () => received, closed, isClosed: () => closedAt !== undefined };
}

beforeAll(async () => {
  [pg, nats, graph] = await Promise.all([startPrivatePostgres(), startNatsServer(), GraphSimulator.start()]);
  databaseUrl = await pg.createDatabase("process_faults");
  env = {
    DATABASE_URL: databaseUrl,
    NATS_URL: nats.url,
    WHATSAPP_GRAPH_URL: graph.url,
    // The mid-send case calls SendMessage with a tenant header; tokens are not what this suite is about.
    AUTH_MODE: "none",
    AUTH_ALLOW_NONE_WITH_DATABASE: "true",
    ...LIMITS,
  };
  const first = await start();
  const ids = uniqueIds("procfaults");
  phoneNumberId = ids.phoneNumberId;
  const handle = await openDatabase({ databaseUrl, dataDir: "unused" });
  try {
    await createMetaAccount(handle.db, ids);
    // Same ENCRYPTION_KEY as the process (fault-harness.ts), so it can open the token.
    const repository = new PostgresAccountRepository(handle.db, new SecretBox(Buffer.alloc(32, 9)));
    const account = await repository.create({
      id: uuidv7(),
      tenantId: sender.tenantId,
      provider: "meta",
      displayName: "Mid-send number",
      phoneNumberId: sender.phoneNumberId,
      wabaId: sender.wabaId,
      displayPhoneNumber: "+15550783882",
      businessId: "biz-midsend",
      rateLimitPerSecond: 80,
      status: "active",
      credentials: { accessToken: sender.token },
      metadata: {},
    });
    sender.accountId = account.id;
  } finally {
    await handle.close();
  }
  graph.setToken(sender.phoneNumberId, sender.token);
  expect(first.alive()).toBe(true);
}, 180_000);

afterAll(async () => {
  for (const service of started) if (service.alive()) service.child.kill("SIGKILL");
  await Promise.all(started.map((s) => s.exited));
  await Promise.all([pg?.cleanup(), nats?.cleanup(), graph?.close()]);
  console.log(`process fault figures: ${JSON.stringify(figures)}`);
});

describe("slow, silent and idle clients", () => {
  it("when clients send a header byte a second, nothing at all, or half a webhook body, then each is closed within the limits and the slow ones get 408", async () => {
    const service = started[0]!;
    const port = Number(new URL(service.url).port);
    const opened = Date.now();
    const silent = rawClient(port);
    const slow = rawClient(port);
    // "G" cannot start the HTTP/2 preface, so the connection is HTTP/1.1 from its first byte (a "P" would keep it in
    // the first-bytes check, which closes it without a 408 — also within the limit).
    const head = "GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let i = 0;
    slow.socket.write(head[i++]!);
    const drip = setInterval(() => {
      if (!slow.socket.destroyed && i < head.length) slow.socket.write(head[i++]!);
    }, 1_000);
    const half = rawClient(port);
    half.socket.write("POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Hub-Signature-256: sha256=00\r\nContent-Length: 400\r\n\r\n{\"object\":\"whatsapp_business_account\",");
    try {
      const [silentAt, slowAt, halfAt] = await Promise.all([silent.closed, slow.closed, half.closed]);
      expect(silent.received()).toBe("");
      expect(slow.received()).toMatch(/^HTTP\/1\.1 408/);
      expect(half.received()).toMatch(/^HTTP\/1\.1 408/);
      expect(service.alive()).toBe(true);
      figures.slowClients = { silentClosedAfterMs: silentAt - opened, slowClosedAfterMs: slowAt - opened, halfBodyClosedAfterMs: halfAt - opened, headerBytesSent: i };
    } finally {
      clearInterval(drip);
    }
  }, 60_000);

  it("when 2,000 connections sit idle, then /health still answers and every one is reaped, giving the file descriptors back", async () => {
    const service = started[0]!;
    const port = Number(new URL(service.url).port);
    const fdsBefore = service.fds();
    const clients = Array.from({ length: 2_000 }, () => rawClient(port));
    await eventually("2,000 connections accepted", async () => (service.fds() >= fdsBefore + 1_900 ? true : undefined), 30_000);
    const fdsHeld = service.fds();
    const health = await httpStatus(`${service.url}/health`);
    const db = await httpStatus(`${service.url}/health/db`);
    await Promise.all(clients.map((c) => c.closed));
    const fdsAfter = await eventually("descriptors given back", async () => {
      const now = service.fds();
      return now <= fdsBefore + 10 ? now : undefined;
    });
    expect(health).toBe(200);
    expect(db).toBe(200);
    expect(clients.every((c) => c.received() === "")).toBe(true);
    expect(service.alive()).toBe(true);
    figures.idle = { fdsBefore, fdsHeld, fdsAfter };
  }, 90_000);
});

describe("the process killed or stopped under load", () => {
  it("when the service is SIGKILLed mid-ingest and started again, then every 200 was stored exactly once and every stored delivery is processed", async () => {
    const victim = started[0]!;
    const load = startWebhookLoad({ url: victim.url, phoneNumberId, perSecond: RATE });
    await pace(3_000);
    victim.child.kill("SIGKILL");
    const { signal } = await victim.exited;
    const outcomes = await load.stop();
    const next = await start();
    const result = checkOutcomes(outcomes, await storedWamids(databaseUrl));

    expect(signal).toBe("SIGKILL");
    expect(result.okMissing).toEqual([]);
    expect(result.ok).toBeGreaterThan(0);
    // The replacement takes over the rows the killed worker had claimed once their lease lapses.
    await eventually(
      "every stored delivery processed after the restart",
      async () => ((await scalar<number>(databaseUrl, "select count(*)::int from control.webhook_inbox where status <> 'processed'")) === 0 ? true : undefined),
      120_000,
    );
    const duplicates = await scalar<number>(
      databaseUrl,
      `select count(*)::int from (select 1 from control.webhook_inbox group by body having count(*) > 1) d`,
    );
    expect(duplicates).toBe(0);
    expect(next.alive()).toBe(true);
    figures.sigkill = { sent: outcomes.length, statuses: result.statuses, storedNot200: result.storedNot200.length };
  }, 180_000);

  it("when the service is SIGKILLed mid-send and started again, then no message reaches the Graph API twice and none is left queued", async () => {
    let service = started[started.length - 1]!;
    // The customer writes first: free-form text may only answer within 24 h of the customer's last message.
    const inbound = await deliver(
      `${service.url}/webhook`,
      metaEnvelope(sender.wabaId, [
        messagesChange({ phoneNumberId: sender.phoneNumberId, contacts: [contact(CUSTOMER, "Customer")], messages: [textMessage({ from: CUSTOMER, body: "hola" })] }),
      ]),
      { appSecret: APP_SECRET },
    );
    expect(inbound.status).toBe(200);
    const schema = tenantSchemaName(sender.tenantId);
    await eventually("the customer's message stored", async () =>
      (await scalar<number>(databaseUrl, `select count(*)::int from "${schema}".messages where status = 'received'`)) > 0 ? true : undefined,
    );
    // Slow answers keep sends in flight when the process dies.
    graph.slowMs = 400;
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const response = await fetch(`${service.url}/whatsapp.v1.MessagingService/SendMessage`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-tenant-id": sender.tenantId },
        body: JSON.stringify({ accountId: sender.accountId, to: `+${CUSTOMER}`, text: { body: `reply ${i}` } }),
      });
      expect(response.status).toBe(200);
      ids.push(((await response.json()) as { message: { id: string } }).message.id);
    }
    await eventually("some sends in flight at the Graph API", async () => (graph.requests.length >= 3 ? true : undefined));
    service.child.kill("SIGKILL");
    await service.exited;
    const atKill = graph.requests.length;
    graph.slowMs = 0;
    service = await start();
    await eventually(
      "no message left queued after the restart",
      async () => ((await scalar<number>(databaseUrl, `select count(*)::int from "${schema}".messages where status = 'queued'`)) === 0 ? true : undefined),
      90_000,
    );
    const twice = ids.filter((id) => graph.acceptedFor(id).length > 1);
    expect(twice).toEqual([]);
    expect(service.alive()).toBe(true);
    const statuses = await scalar<unknown>(databaseUrl, `select json_object_agg(status, n) from (select status, count(*) as n from "${schema}".messages group by 1) t`);
    figures.midSend = { sends: ids.length, graphRequestsAtKill: atKill, graphRequests: graph.requests.length, statuses };
  }, 180_000);

  it("when SIGTERM arrives under load, then every delivery whose row committed got its 200 and the process exits 0", async () => {
    const service = started[started.length - 1]!;
    const load = startWebhookLoad({ url: service.url, phoneNumberId, perSecond: RATE });
    await pace(3_000);
    const signalled = Date.now();
    service.child.kill("SIGTERM");
    const { code } = await service.exited;
    const exitedAfterMs = Date.now() - signalled;
    const outcomes = await load.stop();
    const stored = await storedWamids(databaseUrl);
    const result = checkOutcomes(outcomes, stored);

    expect(code).toBe(0);
    expect(result.okMissing).toEqual([]);
    // The other way round too: a delivery stored is a delivery answered 200 (none committed and then reset).
    expect(result.storedNot200).toEqual([]);
    expect(logLines(service.stdout()).some((l) => l.msg === "stopped")).toBe(true);
    figures.sigterm = { sent: outcomes.length, statuses: result.statuses, exitedAfterMs };
  }, 120_000);
});
