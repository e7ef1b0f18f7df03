import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BadRequestSchema, ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import {
  AccountSchema,
  AccountService,
  AccountStatus,
  Provider,
  type Account,
} from "../gen/whatsapp/v1/account_pb.js";
import { tenantSchemaName } from "../src/adapters/postgres/index.js";
import { clientFor, closeClientSessions, startTestService, uniqueTenant, type Protocol, type TestService } from "./support/service.js";

const SECRET_TOKEN = "EAAGsecret-access-token-must-never-leak";
const SECRET_APP_SECRET = "app-secret-must-never-leak";

function metaAccount(phoneNumberId: string, overrides: Omit<MessageInitShape<typeof AccountSchema>, "$typeName"> = {}): Account {
  return create(AccountSchema, {
    provider: Provider.META,
    displayName: "Acme support",
    phoneNumberId,
    wabaId: "102290129340398",
    displayPhoneNumber: "+1 415 555 2671",
    businessId: "biz-1",
    credentials: { accessToken: SECRET_TOKEN, appSecret: SECRET_APP_SECRET, verifyToken: "verify-me" },
    metadata: { team: "support" },
    ...overrides,
  });
}

let phoneSeq = 0;
const nextPhoneNumberId = () => `10${Date.now() % 1_000_000_000}${(phoneSeq++).toString().padStart(3, "0")}`;

function violationsOf(error: unknown): string[] {
  const connectError = ConnectError.from(error);
  return connectError.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations.map((v) => v.field));
}

describe("AccountService against PostgreSQL", () => {
  let svc: TestService;
  const tenantA = uniqueTenant("acme");
  const tenantB = uniqueTenant("globex");

  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(async () => {
    closeClientSessions();
    await svc?.cleanup();
  });

  const protocols: Protocol[] = ["connect-json-h1", "connect-binary-h2", "grpc", "grpc-web"];
  for (const protocol of protocols) {
    it(`when an account is created over ${protocol}, then get returns it without any credential value`, async () => {
      const client = clientFor(AccountService, svc.service.url, tenantA, protocol);
      const phoneNumberId = nextPhoneNumberId();
      const created = (await client.createAccount({ account: metaAccount(phoneNumberId) })).account!;
      expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(created).toMatchObject({
        tenantId: tenantA,
        provider: Provider.META,
        phoneNumberId,
        displayPhoneNumber: "+14155552671",
        rateLimitPerSecond: 80,
        status: AccountStatus.ACTIVE,
        metadata: { team: "support" },
      });
      expect(created.credentials).toBeUndefined();
      expect([...created.credentialsSet].sort()).toEqual(["access_token", "app_secret", "verify_token"]);

      const fetched = (await client.getAccount({ accountId: created.id })).account!;
      expect(fetched.id).toBe(created.id);
      expect(fetched.credentials).toBeUndefined();
      expect(JSON.stringify(fetched, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))).not.toContain(SECRET_TOKEN);
    });
  }

  it("when a plain HTTP/1.1 JSON call creates an account, then the JSON answer carries no secret", async () => {
    const post = (method: string, body: unknown) =>
      fetch(`${svc.service.url}/whatsapp.v1.AccountService/${method}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-tenant-id": tenantA },
        body: JSON.stringify(body),
      });
    const phoneNumberId = nextPhoneNumberId();
    const createResponse = await post("CreateAccount", {
      account: { provider: "PROVIDER_META", phoneNumberId, credentials: { accessToken: SECRET_TOKEN } },
    });
    expect(createResponse.status).toBe(200);
    const createdText = await createResponse.text();
    expect(createdText).not.toContain(SECRET_TOKEN);
    const created = JSON.parse(createdText) as { account: { id: string; credentialsSet: string[] } };
    expect(created.account.credentialsSet).toEqual(["access_token"]);

    const getResponse = await post("GetAccount", { accountId: created.account.id });
    const gotText = await getResponse.text();
    expect(getResponse.status).toBe(200);
    expect(gotText).not.toContain(SECRET_TOKEN);
    expect(JSON.parse(gotText)).toMatchObject({ account: { id: created.account.id, phoneNumberId } });
  });

  it("when two tenants create accounts, then neither can get, list, update or delete the other's", async () => {
    const a = clientFor(AccountService, svc.service.url, tenantA);
    const b = clientFor(AccountService, svc.service.url, tenantB, "connect-json-h1");
    const accountA = (await a.createAccount({ account: metaAccount(nextPhoneNumberId()) })).account!;
    const accountB = (await b.createAccount({ account: metaAccount(nextPhoneNumberId()) })).account!;

    const listedByB = (await b.listAccounts({ pageSize: 1000 })).accounts.map((x) => x.id);
    expect(listedByB).toEqual([accountB.id]);
    const listedByA = (await a.listAccounts({ pageSize: 1000 })).accounts.map((x) => x.id);
    expect(listedByA).toContain(accountA.id);
    expect(listedByA).not.toContain(accountB.id);

    for (const attempt of [
      () => b.getAccount({ accountId: accountA.id }),
      () => b.updateAccount({ account: { id: accountA.id, displayName: "hijacked" }, updateMask: { paths: ["display_name"] } }),
      () => b.deleteAccount({ accountId: accountA.id }),
      () => b.getAccountMetrics({ accountId: accountA.id }),
    ]) {
      await expect(attempt()).rejects.toMatchObject({ code: Code.NotFound });
    }
    expect((await a.getAccount({ accountId: accountA.id })).account!.displayName).toBe("Acme support");

    const sql = postgres(svc.database.url, { max: 1, onnotice: () => {} });
    try {
      const schemas = await sql<{ schema_name: string }[]>`
        select schema_name from information_schema.schemata where schema_name in ${sql([tenantSchemaName(tenantA), tenantSchemaName(tenantB)])}`;
      expect(schemas.map((s) => s.schema_name).sort()).toEqual([tenantSchemaName(tenantA), tenantSchemaName(tenantB)].sort());
      const stored = await sql<{ credentials: unknown }[]>`select credentials from control.accounts where id = ${accountA.id}`;
      expect(JSON.stringify(stored[0]?.credentials)).not.toContain(SECRET_TOKEN);
    } finally {
      await sql.end();
    }
  });

  it("when an account is updated with a mask, then only the masked fields change and credentials merge by name", async () => {
    const client = clientFor(AccountService, svc.service.url, tenantA, "connect-json-h1");
    const created = (await client.createAccount({ account: metaAccount(nextPhoneNumberId()) })).account!;
    const updated = (
      await client.updateAccount({
        account: { id: created.id, displayName: "Renamed", rateLimitPerSecond: 500, businessId: "ignored-not-in-mask", credentials: { accessToken: "new-token" } },
        updateMask: { paths: ["display_name", "rate_limit_per_second", "credentials"] },
      })
    ).account!;
    expect(updated).toMatchObject({ displayName: "Renamed", rateLimitPerSecond: 500, businessId: "biz-1" });
    expect([...updated.credentialsSet].sort()).toEqual(["access_token", "app_secret", "verify_token"]);
    expect(updated.updateTime!.seconds >= created.updateTime!.seconds).toBe(true);

    const credentials = await svc.service.app.accounts.getCredentials(tenantA, created.id);
    expect(credentials).toMatchObject({ accessToken: "new-token", appSecret: SECRET_APP_SECRET });
  });

  it("when the same create is retried with one request_id, even concurrently, then one account exists and every call returns it", async () => {
    const tenant = uniqueTenant("retrier");
    const client = clientFor(AccountService, svc.service.url, tenant, "connect-json-h1");
    const requestId = `req-${Date.now()}`;
    const phoneNumberId = nextPhoneNumberId();
    const results = await Promise.all(
      Array.from({ length: 5 }, () => client.createAccount({ account: metaAccount(phoneNumberId), requestId })),
    );
    const ids = new Set(results.map((r) => r.account!.id));
    expect(ids.size).toBe(1);
    const again = await client.createAccount({ account: metaAccount(phoneNumberId), requestId });
    expect(again.account!.id).toBe([...ids][0]);
    expect((await client.listAccounts({})).accounts).toHaveLength(1);
  });

  it("when accounts are listed in pages, then each appears exactly once", async () => {
    const tenant = uniqueTenant("pager");
    const client = clientFor(AccountService, svc.service.url, tenant);
    const ids = new Set<string>();
    for (let i = 0; i < 7; i++) ids.add((await client.createAccount({ account: metaAccount(nextPhoneNumberId()) })).account!.id);
    const seen: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const page = await client.listAccounts({ pageSize: 3, pageToken });
      seen.push(...page.accounts.map((a) => a.id));
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken !== "" && pages < 10);
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual([...ids].sort());
  });

  it("when an account is deleted, then it is gone from get and list but its number can be connected again", async () => {
    const client = clientFor(AccountService, svc.service.url, uniqueTenant("deleter"));
    const phoneNumberId = nextPhoneNumberId();
    const created = (await client.createAccount({ account: metaAccount(phoneNumberId) })).account!;
    await client.deleteAccount({ accountId: created.id });
    await expect(client.getAccount({ accountId: created.id })).rejects.toMatchObject({ code: Code.NotFound });
    expect((await client.listAccounts({})).accounts).toEqual([]);
    await expect(client.deleteAccount({ accountId: created.id })).rejects.toMatchObject({ code: Code.NotFound });
    const again = (await client.createAccount({ account: metaAccount(phoneNumberId) })).account!;
    expect(again.id).not.toBe(created.id);
  });

  it("when a phone number id is already connected, then a second create fails with AlreadyExists", async () => {
    const phoneNumberId = nextPhoneNumberId();
    await clientFor(AccountService, svc.service.url, tenantA).createAccount({ account: metaAccount(phoneNumberId) });
    const error = await clientFor(AccountService, svc.service.url, tenantB)
      .createAccount({ account: metaAccount(phoneNumberId) })
      .catch((e: unknown) => ConnectError.from(e));
    expect(error).toMatchObject({ code: Code.AlreadyExists });
    expect((error as ConnectError).findDetails(ErrorInfoSchema)[0]?.reason).toBe("PHONE_NUMBER_ALREADY_CONNECTED");
  });

  it("when a new account has no messages, then its metrics are all zero over the default window", async () => {
    const client = clientFor(AccountService, svc.service.url, tenantA);
    const created = (await client.createAccount({ account: metaAccount(nextPhoneNumberId()) })).account!;
    const metrics = (await client.getAccountMetrics({ accountId: created.id })).metrics!;
    expect(metrics).toMatchObject({ accountId: created.id, sent: 0n, delivered: 0n, read: 0n, failed: 0n, received: 0n, deliveryRate: 0 });
    const windowMs = Number(metrics.endTime!.seconds - metrics.startTime!.seconds) * 1000;
    expect(windowMs).toBe(24 * 60 * 60 * 1000);
  });

  describe("bad input", () => {
    it("when the create request is empty, then InvalidArgument names the account field", async () => {
      const error = await clientFor(AccountService, svc.service.url, tenantA)
        .createAccount({})
        .catch((e: unknown) => ConnectError.from(e));
      expect(error).toMatchObject({ code: Code.InvalidArgument });
      expect(violationsOf(error)).toContain("account");
    });

    it("when fields break the rules, then each one is reported as a field violation", async () => {
      const error = await clientFor(AccountService, svc.service.url, tenantA, "connect-json-h1")
        .createAccount({ account: metaAccount("not a number!", { rateLimitPerSecond: 5000 }) })
        .catch((e: unknown) => ConnectError.from(e));
      expect(error).toMatchObject({ code: Code.InvalidArgument });
      expect(violationsOf(error)).toEqual(expect.arrayContaining(["account.phone_number_id", "account.rate_limit_per_second"]));
    });

    it("when a Meta account has no access token or a bad display number, then the domain rules report both", async () => {
      const error = await clientFor(AccountService, svc.service.url, tenantA)
        .createAccount({ account: metaAccount(nextPhoneNumberId(), { credentials: { appSecret: "x" }, displayPhoneNumber: "+1 555" }) })
        .catch((e: unknown) => ConnectError.from(e));
      expect(error).toMatchObject({ code: Code.InvalidArgument });
      expect(violationsOf(error).sort()).toEqual(["account.credentials.access_token", "account.display_phone_number"]);
    });

    it("when an id is not a UUID, then InvalidArgument names account_id", async () => {
      const error = await clientFor(AccountService, svc.service.url, tenantA)
        .getAccount({ accountId: "../../etc/passwd" })
        .catch((e: unknown) => ConnectError.from(e));
      expect(error).toMatchObject({ code: Code.InvalidArgument });
      expect(violationsOf(error)).toEqual(["account_id"]);
    });

    it("when the update mask names a field that cannot change, then InvalidArgument names update_mask", async () => {
      const client = clientFor(AccountService, svc.service.url, tenantA);
      const created = (await client.createAccount({ account: metaAccount(nextPhoneNumberId()) })).account!;
      const error = await client
        .updateAccount({ account: { id: created.id }, updateMask: { paths: ["tenant_id"] } })
        .catch((e: unknown) => ConnectError.from(e));
      expect(error).toMatchObject({ code: Code.InvalidArgument });
      expect(violationsOf(error)).toEqual(["update_mask"]);
    });

    it("when a page token is forged, then InvalidArgument names page_token", async () => {
      const error = await clientFor(AccountService, svc.service.url, tenantA)
        .listAccounts({ pageToken: "not-a-token" })
        .catch((e: unknown) => ConnectError.from(e));
      expect(error).toMatchObject({ code: Code.InvalidArgument });
      expect(violationsOf(error)).toEqual(["page_token"]);
    });

    it("when the tenant header is missing or malformed, then the call is refused before any handler", async () => {
      await expect(clientFor(AccountService, svc.service.url, undefined).listAccounts({})).rejects.toMatchObject({ code: Code.Unauthenticated });
      await expect(clientFor(AccountService, svc.service.url, "bad tenant; drop").listAccounts({})).rejects.toMatchObject({
        code: Code.InvalidArgument,
      });
    });
  });

  it("when RPCs ran, then the log has one line per RPC with code and duration, and never a secret", async () => {
    const logs = svc.logText();
    const rpcLines = logs
      .split("\n")
      .filter((l) => l.includes('"rpc":"whatsapp.v1.AccountService/CreateAccount"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rpcLines.length).toBeGreaterThan(3);
    expect(rpcLines.some((l) => l.code === "OK" && typeof l.durationMs === "number")).toBe(true);
    expect(rpcLines.some((l) => l.code === "InvalidArgument")).toBe(true);
    expect(logs).not.toContain(SECRET_TOKEN);
    expect(logs).not.toContain(SECRET_APP_SECRET);
    expect(logs).not.toContain("new-token");
  });
});
