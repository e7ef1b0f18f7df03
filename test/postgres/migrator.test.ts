import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { sql } from "drizzle-orm";
import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  defaultMigrationFolders,
  ensureTenant,
  migrate,
  openDatabase,
  queryRows,
  tenantSchemaName,
  withTenant,
  type Database,
  type DatabaseHandle,
} from "../../src/adapters/postgres/index.js";
import { contacts, messages } from "../../src/adapters/postgres/schema/index.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

let testDb: TestDatabase;
let handle: DatabaseHandle;
let db: Database;

beforeAll(async () => {
  testDb = await createTestDatabase("migrator");
  handle = await openDatabase({ databaseUrl: testDb.url, dataDir: "unused" });
  db = handle.db;
});

afterAll(async () => {
  await handle?.close();
  await testDb?.drop();
});

async function tablesIn(schemaName: string): Promise<string[]> {
  const rows = await queryRows<{ table_name: string }>(
    db,
    sql`select table_name from information_schema.tables where table_schema = ${schemaName} order by table_name`,
  );
  return rows.map((r) => r.table_name);
}

/** Tenant migrations in the repository (so adding one does not break these tests). */
async function tenantMigrationCount(): Promise<number> {
  const journal = JSON.parse(await readFile(path.join(defaultMigrationFolders().tenantDir, "meta", "_journal.json"), "utf8")) as { entries: unknown[] };
  return journal.entries.length;
}

async function appliedIn(schemaName: string): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from ${sql.identifier(schemaName)}.${sql.identifier("__migrations")}`,
  );
  return row?.n ?? -1;
}

describe("migrate", () => {
  it("when run on an empty database, then the control schema has its tables and a second run applies nothing", async () => {
    const first = await migrate(db);
    expect(first.controlApplied).toBeGreaterThan(0);
    expect(await tablesIn("control")).toEqual(["__migrations", "accounts", "jobs", "outbox", "send_pacing", "tenants", "webhook_inbox", "webhook_unroutable"]);
    expect(await tablesIn("public")).toEqual([]);

    const second = await migrate(db);
    expect(second).toMatchObject({ controlApplied: 0, tenantApplied: 0 });
  });

  it("when several replicas migrate a fresh database at once, then all succeed and each migration is recorded once", async () => {
    const fresh = await createTestDatabase("replicas");
    const handles = await Promise.all(
      [1, 2, 3].map(() => openDatabase({ databaseUrl: fresh.url, dataDir: "unused", poolSize: 2 })),
    );
    try {
      const results = await Promise.all(handles.map((h) => migrate(h.db)));
      const journal = JSON.parse(await readFile(path.join(defaultMigrationFolders().controlDir, "meta", "_journal.json"), "utf8")) as {
        entries: unknown[];
      };
      expect(results.reduce((sum, r) => sum + r.controlApplied, 0)).toBe(journal.entries.length);
      const [row] = await queryRows<{ n: number }>(handles[0]!.db, sql`select count(*)::int as n from control.__migrations`);
      expect(row?.n).toBe(journal.entries.length);
    } finally {
      await Promise.all(handles.map((h) => h.close()));
      await fresh.drop();
    }
  });
});

describe("ensureTenant", () => {
  beforeAll(async () => {
    await migrate(db);
  });

  it("when two tenants are ensured, then each gets its own schema with the tenant tables and a row in control.tenants", async () => {
    const a = await ensureTenant(db, "tenant-a");
    const b = await ensureTenant(db, "tenant_a");
    expect(a).toEqual({ schemaName: tenantSchemaName("tenant-a"), created: true });
    expect(b.schemaName).not.toBe(a.schemaName);
    for (const schemaName of [a.schemaName, b.schemaName]) {
      expect(await tablesIn(schemaName)).toEqual([
        "__migrations",
        "contacts",
        "conversations",
        "messages",
        "otps",
        "pending_statuses",
        "provider_updates",
        "send_idempotency_keys",
        "template_versions",
        "templates",
        "tenant_settings",
      ]);
    }
    const rows = await queryRows<{ id: string; schema_name: string }>(
      db,
      sql`select id, schema_name from control.tenants where id in ('tenant-a', 'tenant_a') order by id`,
    );
    expect(rows).toEqual([
      { id: "tenant-a", schema_name: a.schemaName },
      { id: "tenant_a", schema_name: b.schemaName },
    ]);
    expect(await ensureTenant(db, "tenant-a")).toEqual({ schemaName: a.schemaName, created: false });
    expect(await tablesIn("public")).toEqual([]);
  });

  it("when ten requests ensure the same new tenant at once, then exactly one creates it and all succeed", async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => ensureTenant(db, "racer")));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.schemaName))).toEqual(new Set([tenantSchemaName("racer")]));
    const [row] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from control.tenants where id = 'racer'`);
    expect(row?.n).toBe(1);
    expect(await appliedIn(tenantSchemaName("racer"))).toBe(await tenantMigrationCount());
  });

  it("when a message references a contact, then the foreign keys point inside the same tenant schema", async () => {
    const { schemaName: schemaA } = await ensureTenant(db, "fk-a");
    const { schemaName: schemaB } = await ensureTenant(db, "fk-b");

    const contactA = await withTenant(db, "fk-a", async (tx) => {
      const [contact] = await tx.insert(contacts).values({ waId: "15550001" }).returning({ id: contacts.id });
      await tx.insert(messages).values({
        accountId: uuidv7(),
        contactId: contact!.id,
        direction: "inbound",
        type: "text",
        status: "received",
        content: { text: "hi" },
      });
      return contact!.id;
    });

    const refs = await queryRows<{ conname: string; table_schema: string; ref_schema: string; ref_table: string }>(
      db,
      sql`select c.conname, tn.nspname as table_schema, rn.nspname as ref_schema, rt.relname as ref_table
          from pg_constraint c
          join pg_class t on t.oid = c.conrelid join pg_namespace tn on tn.oid = t.relnamespace
          join pg_class rt on rt.oid = c.confrelid join pg_namespace rn on rn.oid = rt.relnamespace
          where c.contype = 'f' and tn.nspname in (${schemaA}, ${schemaB})`,
    );
    // Per schema: conversations→contacts, messages→contacts, messages→conversations, otps→contacts, template_versions→templates.
    expect(refs.length).toBe(10);
    for (const ref of refs) expect(ref.ref_schema).toBe(ref.table_schema);

    // The row landed in A's schema, and B's foreign key does not see A's contact.
    const [inA] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from ${sql.identifier(schemaA)}.messages`);
    expect(inA?.n).toBe(1);
    const crossTenant = withTenant(db, "fk-b", (tx) =>
      tx.insert(messages).values({ accountId: uuidv7(), contactId: contactA, direction: "inbound", type: "text", status: "received" }),
    );
    await expect(crossTenant).rejects.toMatchObject({ cause: { code: "23503" } });
  });

  it("when a tenant transaction runs, then its search_path is the tenant schema and pg_catalog only", async () => {
    await ensureTenant(db, "path-check");
    const rows = await withTenant(db, "path-check", (tx) =>
      queryRows<{ schemas: string[] }>(tx, sql`select current_schemas(false) as schemas`),
    );
    expect(rows[0]?.schemas).toEqual([tenantSchemaName("path-check"), "pg_catalog"]);
  });
});

describe("a new tenant migration", () => {
  let tempDir: string;

  beforeAll(async () => {
    await migrate(db);
    tempDir = await mkdtemp(path.join(tmpdir(), "tenant-migrations-"));
  });

  afterAll(async () => {
    await rm(tempDir, { recursive: true, force: true });
  });

  it("when added to the tenant folder, then the next migrate applies it to every existing tenant schema and new tenants get it", async () => {
    await ensureTenant(db, "mig-one");
    await ensureTenant(db, "mig-two");

    const folder = path.join(tempDir, "tenant");
    await cp(defaultMigrationFolders().tenantDir, folder, { recursive: true });
    const journalPath = path.join(folder, "meta", "_journal.json");
    const journal = JSON.parse(await readFile(journalPath, "utf8")) as {
      entries: { idx: number; version: string; when: number; tag: string; breakpoints: boolean }[];
    };
    const last = journal.entries[journal.entries.length - 1]!;
    const tag = `${String(last.idx + 1).padStart(4, "0")}_test_notes`;
    journal.entries.push({ idx: last.idx + 1, version: last.version, when: last.when + 1, tag, breakpoints: true });
    await writeFile(journalPath, JSON.stringify(journal, null, 2));
    await writeFile(
      path.join(folder, `${tag}.sql`),
      'CREATE TABLE "notes" ("id" uuid PRIMARY KEY, "contact_id" uuid NOT NULL);\n--> statement-breakpoint\n' +
        'ALTER TABLE "notes" ADD CONSTRAINT "notes_contact_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contacts"("id");',
    );

    const result = await migrate(db, { tenantDir: folder });
    const [count] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from control.tenants`);
    expect(result.tenants).toBe(count?.n);
    expect(result.tenantApplied).toBe(count?.n);

    const schemas = await queryRows<{ schema_name: string }>(db, sql`select schema_name from control.tenants`);
    for (const { schema_name } of schemas) {
      expect(await tablesIn(schema_name)).toContain("notes");
      expect(await appliedIn(schema_name)).toBe(journal.entries.length);
    }
    expect(await tablesIn("public")).toEqual([]);

    const again = await migrate(db, { tenantDir: folder });
    expect(again.tenantApplied).toBe(0);

    const late = await ensureTenant(db, "mig-late", { tenantDir: folder });
    expect(await tablesIn(late.schemaName)).toContain("notes");
  });
});
