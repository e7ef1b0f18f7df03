import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { sql } from "drizzle-orm";
import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { SecretBox } from "../../src/adapters/crypto/secret-box.js";
import {
  ensureTenant,
  migrate,
  openDatabase,
  PostgresAccountRepository,
  queryRows,
  tenantSchemaName,
  withTenant,
  type DatabaseHandle,
} from "../../src/adapters/postgres/index.js";
import { contacts, messages } from "../../src/adapters/postgres/schema/index.js";

let dataDir: string;
let handle: DatabaseHandle;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "pglite-test-"));
  handle = await openDatabase({ dataDir });
});

afterAll(async () => {
  await handle?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe("embedded PGlite", () => {
  it("when no DATABASE_URL is given, then the same migrations, tenant schemas and repository work on PGlite", async () => {
    expect(handle.kind).toBe("pglite");
    expect(existsSync(path.join(dataDir, "pglite"))).toBe(true);
    await handle.ping();

    const first = await migrate(handle.db);
    expect(first.controlApplied).toBeGreaterThan(0);
    expect((await migrate(handle.db)).controlApplied).toBe(0);

    const results = await Promise.all([1, 2, 3].map(() => ensureTenant(handle.db, "laptop")));
    expect(results.filter((r) => r.created)).toHaveLength(1);

    const repo = new PostgresAccountRepository(handle.db, new SecretBox(randomBytes(32)));
    const account = await repo.create({
      id: uuidv7(),
      tenantId: "laptop",
      provider: "sandbox",
      displayName: "Sandbox",
      phoneNumberId: "sandbox-1",
      wabaId: "",
      displayPhoneNumber: "+15550100",
      businessId: "",
      rateLimitPerSecond: 80,
      status: "active",
      credentials: { accessToken: "pglite-secret" },
      metadata: {},
    });
    expect(await repo.get("laptop", account.id)).toEqual(account);
    expect(await repo.get("someone-else", account.id)).toBeNull();
    expect(await repo.getCredentials("laptop", account.id)).toEqual({ accessToken: "pglite-secret" });
    await expect(repo.create({ ...account, id: uuidv7(), credentials: {} })).rejects.toMatchObject({
      reason: "PHONE_NUMBER_ALREADY_CONNECTED",
    });

    const now = new Date();
    await withTenant(handle.db, "laptop", async (tx) => {
      const [contact] = await tx.insert(contacts).values({ waId: "15550001111" }).returning({ id: contacts.id });
      await tx.insert(messages).values({
        accountId: account.id,
        contactId: contact!.id,
        direction: "outbound",
        type: "text",
        status: "delivered",
        sentTime: now,
        deliveredTime: now,
        createTime: now,
      });
    });
    expect(await repo.metrics("laptop", account.id, new Date(now.getTime() - 1000), new Date(now.getTime() + 1000))).toEqual({
      sent: 1,
      delivered: 1,
      read: 0,
      failed: 0,
      received: 0,
    });

    const refs = await queryRows<{ ref_schema: string }>(
      handle.db,
      sql`select distinct rn.nspname as ref_schema
          from pg_constraint c
          join pg_class t on t.oid = c.conrelid join pg_namespace tn on tn.oid = t.relnamespace
          join pg_class rt on rt.oid = c.confrelid join pg_namespace rn on rn.oid = rt.relnamespace
          where c.contype = 'f' and tn.nspname = ${tenantSchemaName("laptop")}`,
    );
    expect(refs).toEqual([{ ref_schema: tenantSchemaName("laptop") }]);
  });
});
