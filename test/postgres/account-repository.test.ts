import { randomBytes } from "node:crypto";

import { sql } from "drizzle-orm";
import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { AccountCredentials } from "../../src/domain/account.js";
import { DomainError } from "../../src/domain/errors.js";
import type { NewAccount } from "../../src/ports/account-repository.js";
import { SecretBox } from "../../src/adapters/crypto/secret-box.js";
import {
  migrate,
  openDatabase,
  PostgresAccountRepository,
  queryRows,
  withTenant,
  type Database,
  type DatabaseHandle,
} from "../../src/adapters/postgres/index.js";
import { contacts, messages } from "../../src/adapters/postgres/schema/index.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

let testDb: TestDatabase;
let handle: DatabaseHandle;
let db: Database;
let repo: PostgresAccountRepository;
let phoneCounter = 0;

beforeAll(async () => {
  testDb = await createTestDatabase("accounts");
  handle = await openDatabase({ databaseUrl: testDb.url, dataDir: "unused" });
  db = handle.db;
  await migrate(db);
  repo = new PostgresAccountRepository(db, new SecretBox(randomBytes(32)));
});

afterAll(async () => {
  await handle?.close();
  await testDb?.drop();
});

function newAccount(tenantId: string, overrides: Partial<NewAccount> = {}): NewAccount {
  phoneCounter += 1;
  return {
    id: uuidv7(),
    tenantId,
    provider: "meta",
    displayName: `Shop ${phoneCounter}`,
    phoneNumberId: `10${String(phoneCounter).padStart(10, "0")}`,
    wabaId: "2000",
    displayPhoneNumber: "+15550100",
    businessId: "3000",
    rateLimitPerSecond: 80,
    status: "active",
    credentials: { accessToken: `token-${phoneCounter}` },
    metadata: { team: "sales" },
    ...overrides,
  };
}

describe("PostgresAccountRepository tenancy", () => {
  it("when two tenants each create accounts, then neither can get, list, update or delete the other's", async () => {
    const a = await repo.create(newAccount("iso-a"));
    const b = await repo.create(newAccount("iso-b"));

    expect(await repo.get("iso-a", a.id)).toEqual(a);
    expect(await repo.get("iso-a", b.id)).toBeNull();
    expect(await repo.get("iso-b", a.id)).toBeNull();
    expect(await repo.getCredentials("iso-b", a.id)).toBeNull();

    expect((await repo.list("iso-a", 100, "")).accounts.map((x) => x.id)).toEqual([a.id]);
    expect((await repo.list("iso-b", 100, "")).accounts.map((x) => x.id)).toEqual([b.id]);

    expect(await repo.update("iso-b", a.id, { displayName: "stolen" })).toBeNull();
    expect(await repo.softDelete("iso-b", a.id)).toBe(false);
    expect((await repo.get("iso-a", a.id))?.displayName).toBe(a.displayName);
  });

  it("when a tenant has no accounts yet, then list is empty and get is null", async () => {
    expect(await repo.list("nobody", 10, "")).toEqual({ accounts: [], nextPageToken: "" });
    expect(await repo.get("nobody", uuidv7())).toBeNull();
    expect(await repo.get("nobody", "not-a-uuid")).toBeNull();
  });
});

describe("PostgresAccountRepository create", () => {
  it("when an account is created, then it comes back as a plain domain object with the stored credential names", async () => {
    const input = newAccount("create-t", { credentials: { accessToken: "tok", appSecret: "sec" }, metadata: { k: "v" } });
    const created = await repo.create(input);
    expect(created).toMatchObject({
      id: input.id,
      tenantId: "create-t",
      provider: "meta",
      displayName: input.displayName,
      phoneNumberId: input.phoneNumberId,
      rateLimitPerSecond: 80,
      status: "active",
      credentialsSet: ["accessToken", "appSecret"],
      metadata: { k: "v" },
      deleteTime: null,
    });
    expect(created.createTime).toBeInstanceOf(Date);
    expect(created).not.toHaveProperty("credentials");
  });

  it("when the phone number id is already connected (even by another tenant), then create fails with already_exists", async () => {
    const first = await repo.create(newAccount("dup-a"));
    const attempt = repo.create(newAccount("dup-b", { phoneNumberId: first.phoneNumberId }));
    await expect(attempt).rejects.toBeInstanceOf(DomainError);
    await expect(attempt).rejects.toMatchObject({ kind: "already_exists", reason: "PHONE_NUMBER_ALREADY_CONNECTED" });
  });

  it("when the account holding a phone number id is deleted, then the number can be connected again", async () => {
    const first = await repo.create(newAccount("reuse-t"));
    expect(await repo.softDelete("reuse-t", first.id)).toBe(true);
    const second = await repo.create(newAccount("reuse-t", { phoneNumberId: first.phoneNumberId }));
    expect(second.phoneNumberId).toBe(first.phoneNumberId);
  });
});

describe("PostgresAccountRepository credentials", () => {
  it("when credentials are stored, then the raw row holds no plaintext and getCredentials decrypts them", async () => {
    const credentials: AccountCredentials = { accessToken: "EAAG-very-secret-token", verifyToken: "verify-me-please" };
    const account = await repo.create(newAccount("cred-t", { credentials }));

    const [raw] = await queryRows<{ row: string; kind: string; token: string }>(
      db,
      sql`select a::text as row, jsonb_typeof(credentials) as kind, credentials->>'accessToken' as token
          from control.accounts a where id = ${account.id}`,
    );
    expect(raw?.kind).toBe("object");
    expect(raw?.row).not.toContain("EAAG-very-secret-token");
    expect(raw?.row).not.toContain("verify-me-please");
    expect(raw?.token).toMatch(/^v1\./);

    expect(await repo.getCredentials("cred-t", account.id)).toEqual(credentials);
  });

  it("when an update gives one credential, then it replaces that one and keeps the others", async () => {
    const account = await repo.create(newAccount("cred-merge", { credentials: { accessToken: "old-token", appSecret: "secret-1" } }));
    const updated = await repo.update("cred-merge", account.id, { credentials: { accessToken: "new-token" } });
    expect(updated?.credentialsSet).toEqual(["accessToken", "appSecret"]);
    expect(await repo.getCredentials("cred-merge", account.id)).toEqual({ accessToken: "new-token", appSecret: "secret-1" });
  });

  it("when a sealed credential is copied to another account's row, then it does not decrypt there", async () => {
    const a = await repo.create(newAccount("cred-copy", { credentials: { accessToken: "token-a" } }));
    const b = await repo.create(newAccount("cred-copy", { credentials: { accessToken: "token-b" } }));
    await db.execute(
      sql`update control.accounts set credentials = (select credentials from control.accounts where id = ${a.id}) where id = ${b.id}`,
    );
    await expect(repo.getCredentials("cred-copy", b.id)).rejects.toMatchObject({ reason: "CREDENTIALS_UNREADABLE" });
  });
});

describe("PostgresAccountRepository update and delete", () => {
  it("when fields are changed, then only those change and update_time moves forward", async () => {
    const account = await repo.create(newAccount("upd-t"));
    const updated = await repo.update("upd-t", account.id, { displayName: "Renamed", rateLimitPerSecond: 20, metadata: { a: "b" } });
    expect(updated).toMatchObject({
      displayName: "Renamed",
      rateLimitPerSecond: 20,
      metadata: { a: "b" },
      phoneNumberId: account.phoneNumberId,
      wabaId: account.wabaId,
      status: "active",
    });
    expect(updated!.updateTime.getTime()).toBeGreaterThanOrEqual(account.updateTime.getTime());
    expect(await repo.get("upd-t", account.id)).toEqual(updated);
  });

  it("when the phone number id is changed to one already connected, then update fails with already_exists", async () => {
    const a = await repo.create(newAccount("upd-dup"));
    const b = await repo.create(newAccount("upd-dup"));
    await expect(repo.update("upd-dup", b.id, { phoneNumberId: a.phoneNumberId })).rejects.toMatchObject({
      kind: "already_exists",
      reason: "PHONE_NUMBER_ALREADY_CONNECTED",
    });
  });

  it("when an account is deleted, then get, list, update and a second delete no longer see it", async () => {
    const account = await repo.create(newAccount("del-t"));
    expect(await repo.softDelete("del-t", account.id)).toBe(true);
    expect(await repo.get("del-t", account.id)).toBeNull();
    expect(await repo.getCredentials("del-t", account.id)).toBeNull();
    expect((await repo.list("del-t", 10, "")).accounts).toEqual([]);
    expect(await repo.update("del-t", account.id, { displayName: "x" })).toBeNull();
    expect(await repo.softDelete("del-t", account.id)).toBe(false);
  });
});

describe("PostgresAccountRepository list", () => {
  it("when paging through many accounts, then every account comes back exactly once in creation order", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 23; i += 1) ids.push((await repo.create(newAccount("page-t"))).id);
    // Several rows with the same create_time (microseconds included): the id breaks ties.
    const tied = ids.slice(5, 12);
    await db.execute(
      sql`update control.accounts set create_time = '2024-01-01T00:00:00.123456Z'
          where tenant_id = 'page-t' and id in (${sql.join(tied.map((id) => sql`${id}::uuid`), sql`, `)})`,
    );
    const expected = [...[...tied].sort(), ...ids.slice(0, 5), ...ids.slice(12)];

    const seen: string[] = [];
    let token = "";
    let pages = 0;
    do {
      const page = await repo.list("page-t", 5, token);
      expect(page.accounts.length).toBeLessThanOrEqual(5);
      seen.push(...page.accounts.map((a) => a.id));
      token = page.nextPageToken;
      pages += 1;
    } while (token !== "" && pages < 20);

    expect(seen).toEqual(expected);
    expect(pages).toBe(5);
  });

  it("when the page token is malformed, then list fails with invalid_argument on page_token", async () => {
    for (const bad of ["%%%", "bm90LWpzb24", Buffer.from('["yesterday","x"]').toString("base64url")]) {
      const attempt = repo.list("page-t", 5, bad);
      await expect(attempt).rejects.toMatchObject({ kind: "invalid_argument", violations: [{ field: "page_token" }] });
    }
  });
});

describe("PostgresAccountRepository metrics", () => {
  it("when messages exist, then metrics counts them by direction and status within [from, to)", async () => {
    const account = await repo.create(newAccount("metrics-t"));
    const other = await repo.create(newAccount("metrics-t"));
    const from = new Date("2025-03-01T00:00:00Z");
    const to = new Date("2025-03-02T00:00:00Z");
    const inside = new Date("2025-03-01T12:00:00Z");

    await withTenant(db, "metrics-t", async (tx) => {
      const [contact] = await tx.insert(contacts).values({ waId: "15550009999" }).returning({ id: contacts.id });
      const base = { accountId: account.id, contactId: contact!.id, type: "text", createTime: inside };
      await tx.insert(messages).values([
        { ...base, direction: "outbound", status: "queued" },
        { ...base, direction: "outbound", status: "sent", sentTime: inside },
        { ...base, direction: "outbound", status: "delivered", sentTime: inside, deliveredTime: inside },
        { ...base, direction: "outbound", status: "read", sentTime: inside, readTime: inside },
        { ...base, direction: "outbound", status: "failed", failedTime: inside, errorCode: "131026" },
        { ...base, direction: "inbound", status: "received" },
        { ...base, direction: "inbound", status: "received" },
        // Outside the window: at `to` (excluded) and before `from`.
        { ...base, direction: "outbound", status: "read", createTime: to },
        { ...base, direction: "inbound", status: "received", createTime: new Date(from.getTime() - 1) },
        // Another account of the same tenant.
        { ...base, accountId: other.id, direction: "inbound", status: "received" },
      ]);
    });

    expect(await repo.metrics("metrics-t", account.id, from, to)).toEqual({ sent: 3, delivered: 2, read: 1, failed: 1, received: 2 });
    expect(await repo.metrics("metrics-t", other.id, from, to)).toEqual({ sent: 0, delivered: 0, read: 0, failed: 0, received: 1 });
    expect(await repo.metrics("metrics-t", account.id, to, new Date(to.getTime() + 1))).toEqual({
      sent: 1,
      delivered: 1,
      read: 1,
      failed: 0,
      received: 0,
    });
  });

  it("when the tenant has no messages or no schema, then metrics are zeros", async () => {
    const account = await repo.create(newAccount("metrics-empty"));
    const zeros = { sent: 0, delivered: 0, read: 0, failed: 0, received: 0 };
    expect(await repo.metrics("metrics-empty", account.id, new Date(0), new Date())).toEqual(zeros);
    expect(await repo.metrics("never-seen", uuidv7(), new Date(0), new Date())).toEqual(zeros);
  });
});
