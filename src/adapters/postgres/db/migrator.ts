/**
 * Applies drizzle-kit's migrations: `migrations/control/` once to the shared
 * control schema, and `migrations/tenant/` to every tenant schema.
 *
 * - Each migration is identified by its journal timestamp (`when`) and
 *   recorded, with its hash, in `<schema>.__migrations` (`control.__migrations`
 *   for the control schema), so a folder merged from two branches still
 *   applies the one that was missing.
 * - Each migration runs in its own transaction that first takes a
 *   transaction-scoped advisory lock (one for the control schema, one per
 *   tenant) and re-reads what is applied: replicas that start together, or a
 *   tenant being created while `migrate` runs, wait for each other instead of
 *   applying anything twice. Transaction-scoped locks work through any pool
 *   (and pgbouncer in transaction mode), and PGlite.
 * - Tenant migrations run with `SET LOCAL search_path TO "<schema>", pg_catalog`,
 *   with drizzle-kit's `"public".` qualifiers stripped (its foreign keys say
 *   `REFERENCES "public"."contacts"`), and are refused if they still name
 *   `public`: nothing a tenant migration creates can point outside its schema.
 */
import { LockClass } from "./lock-classes.js";
import { existsSync } from "node:fs";
import { createHash } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { sql } from "drizzle-orm";
import { readMigrationFiles, type MigrationMeta } from "drizzle-orm/migrator";

import type { Database, DatabaseLogger } from "./database.js";
import { queryRows } from "./database.js";
import { tenants } from "../schema/control.js";
import { setTenantSearchPath, tenantExists, tenantSchemaName } from "./tenant-scope.js";

export const CONTROL_SCHEMA = "control";
export const MIGRATIONS_TABLE = "__migrations";

/** First keys of the two-int advisory locks this module takes (registered in lock-classes.ts). */
const CONTROL_LOCK_CLASS = LockClass.migrateControl;
const TENANT_LOCK_CLASS = LockClass.migrateTenant;

export interface MigrationFolders {
  /** drizzle-kit output folder for the control schema (has meta/_journal.json). */
  controlDir: string;
  /** drizzle-kit output folder for the tenant tables. */
  tenantDir: string;
}

export interface MigrateOptions extends Partial<MigrationFolders> {
  logger?: DatabaseLogger | undefined;
}

export interface MigrateResult {
  /** Control migrations applied by this call. */
  controlApplied: number;
  /** Tenant schemas visited. */
  tenants: number;
  /** Tenant migrations applied by this call, over all tenant schemas. */
  tenantApplied: number;
}

let defaultFolders: MigrationFolders | undefined;

/**
 * `migrations/control` and `migrations/tenant` of the nearest folder above this
 * module that has them (works from `src/` under tsx/vitest and from `dist/`).
 */
export function defaultMigrationFolders(): MigrationFolders {
  if (defaultFolders) return defaultFolders;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, "migrations");
    if (existsSync(path.join(candidate, "control", "meta", "_journal.json"))) {
      defaultFolders = { controlDir: path.join(candidate, "control"), tenantDir: path.join(candidate, "tenant") };
      return defaultFolders;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("migrations/control not found above " + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** Applies the control migrations, then the tenant migrations to every tenant in control.tenants. */
export async function migrate(db: Database, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const folders = { ...defaultMigrationFolders(), ...definedOnly(opts) };
  const logger = opts.logger;

  let controlApplied = 0;
  for (const migration of readMigrationFiles({ migrationsFolder: folders.controlDir })) {
    if (await applyControlMigration(db, migration)) {
      controlApplied += 1;
      logger?.info({ migration: migration.folderMillis, hash: migration.hash }, "control migration applied");
    }
  }

  const tenantMigrations = readTenantMigrations(folders.tenantDir);
  const rows = await db
    .select({ id: tenants.id, schemaName: tenants.schemaName })
    .from(tenants)
    .orderBy(tenants.createdAt, tenants.id);
  let tenantApplied = 0;
  for (const tenant of rows) {
    const applied = await appliedMigrations(db, tenant.schemaName, { ifExists: true });
    for (const migration of tenantMigrations) {
      if (applied.has(migration.folderMillis)) continue;
      const done = await db.transaction(async (tx) => {
        await lock(tx, TENANT_LOCK_CLASS, lockKey(tenant.id));
        await tx.execute(sql`create schema if not exists ${sql.identifier(tenant.schemaName)}`);
        return applyTenantMigration(tx, tenant.schemaName, migration);
      });
      if (done) {
        tenantApplied += 1;
        logger?.info({ tenantId: tenant.id, schema: tenant.schemaName, migration: migration.folderMillis }, "tenant migration applied");
      }
    }
  }
  return { controlApplied, tenants: rows.length, tenantApplied };
}

export interface EnsureTenantResult {
  schemaName: string;
  /** True when this call created the tenant (schema, migrations, row). */
  created: boolean;
}

/**
 * Makes sure the tenant exists: its row in control.tenants, its schema, and
 * every tenant migration — all in one transaction, so a tenant row always
 * means a migrated schema. Idempotent; concurrent calls for the same new
 * tenant serialise on an advisory lock keyed by the tenant and all succeed.
 * Needs the control migrations applied.
 */
export async function ensureTenant(
  db: Database,
  tenantId: string,
  opts: { tenantDir?: string | undefined } = {},
): Promise<EnsureTenantResult> {
  const schemaName = tenantSchemaName(tenantId);
  if (await tenantExists(db, tenantId)) return { schemaName, created: false };

  const migrations = readTenantMigrations(opts.tenantDir ?? defaultMigrationFolders().tenantDir);
  const created = await db.transaction(async (tx) => {
    await lock(tx, TENANT_LOCK_CLASS, lockKey(tenantId));
    if (await tenantExists(tx, tenantId)) return false;
    await tx.execute(sql`create schema if not exists ${sql.identifier(schemaName)}`);
    for (const migration of migrations) await applyTenantMigration(tx, schemaName, migration);
    const inserted = await tx
      .insert(tenants)
      .values({ id: tenantId, schemaName })
      .onConflictDoNothing()
      .returning({ id: tenants.id });
    return inserted.length > 0;
  });
  return { schemaName, created };
}

async function applyControlMigration(db: Database, migration: MigrationMeta): Promise<boolean> {
  return db.transaction(async (tx) => {
    await lock(tx, CONTROL_LOCK_CLASS, 0);
    await tx.execute(sql`create schema if not exists ${sql.identifier(CONTROL_SCHEMA)}`);
    await tx.execute(sql`set local search_path to ${sql.identifier(CONTROL_SCHEMA)}, pg_catalog`);
    await createMigrationsTable(tx, CONTROL_SCHEMA);
    if ((await appliedMigrations(tx, CONTROL_SCHEMA)).has(migration.folderMillis)) return false;
    for (const statement of migration.sql) {
      const text = controlStatement(statement);
      if (text) await tx.execute(sql.raw(text));
    }
    await recordMigration(tx, CONTROL_SCHEMA, migration);
    return true;
  });
}

/** Inside a transaction holding the tenant's lock. Returns false when already applied. */
async function applyTenantMigration(tx: Database, schemaName: string, migration: TenantMigration): Promise<boolean> {
  await setTenantSearchPath(tx, schemaName);
  await createMigrationsTable(tx, schemaName);
  if ((await appliedMigrations(tx, schemaName)).has(migration.folderMillis)) return false;
  for (const statement of migration.statements) await tx.execute(sql.raw(statement));
  await recordMigration(tx, schemaName, migration);
  return true;
}

interface TenantMigration {
  folderMillis: number;
  hash: string;
  statements: string[];
}

/** Reads the tenant folder and checks every statement before anything runs. */
function readTenantMigrations(folder: string): TenantMigration[] {
  return readMigrationFiles({ migrationsFolder: folder }).map((migration) => ({
    folderMillis: migration.folderMillis,
    hash: migration.hash,
    statements: migration.sql.map((s) => tenantStatement(s, migration.folderMillis)).filter((s) => s !== ""),
  }));
}

/**
 * drizzle-kit writes `REFERENCES "public"."contacts"` (and `"public".` before
 * types and sequences). Inside a tenant schema those must resolve through the
 * search_path, so the qualifier goes; any other mention of `public.` is refused.
 */
export function tenantStatement(statement: string, migrationId: number | string = "?"): string {
  const text = statement.replace(/"public"\s*\.\s*/g, "").trim();
  if (/\bpublic\s*\./i.test(text) || /"public"/i.test(text)) {
    throw new Error(`tenant migration ${migrationId} refers to schema public: ${text.slice(0, 200)}`);
  }
  if (/\bset\s+(local\s+|session\s+)?search_path\b/i.test(text)) {
    throw new Error(`tenant migration ${migrationId} must not change search_path`);
  }
  return text;
}

/** drizzle-kit's `CREATE SCHEMA "control"` becomes idempotent (the migrator creates it first to track itself). */
function controlStatement(statement: string): string {
  return statement.trim().replace(/^create\s+schema\s+(?!if\s+not\s+exists)/i, "CREATE SCHEMA IF NOT EXISTS ");
}

async function createMigrationsTable(tx: Database, schemaName: string): Promise<void> {
  await tx.execute(sql`
    create table if not exists ${sql.identifier(schemaName)}.${sql.identifier(MIGRATIONS_TABLE)} (
      created_at bigint primary key,
      hash text not null,
      applied_at timestamptz not null default now()
    )`);
}

async function appliedMigrations(db: Database, schemaName: string, opts: { ifExists?: boolean } = {}): Promise<Set<number>> {
  if (opts.ifExists) {
    const [row] = await queryRows<{ present: boolean }>(
      db,
      sql`select to_regclass(format('%I.%I', ${schemaName}::text, ${MIGRATIONS_TABLE}::text)) is not null as present`,
    );
    if (!row?.present) return new Set();
  }
  const rows = await queryRows<{ created_at: unknown }>(
    db,
    sql`select created_at from ${sql.identifier(schemaName)}.${sql.identifier(MIGRATIONS_TABLE)}`,
  );
  return new Set(rows.map((r) => Number(String(r.created_at))));
}

async function recordMigration(tx: Database, schemaName: string, migration: { folderMillis: number; hash: string }): Promise<void> {
  await tx.execute(
    sql`insert into ${sql.identifier(schemaName)}.${sql.identifier(MIGRATIONS_TABLE)} (created_at, hash) values (${migration.folderMillis}, ${migration.hash})`,
  );
}

async function lock(tx: Database, lockClass: number, key: number): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${lockClass}::integer, ${key}::integer)`);
}

/** A signed 32-bit key from the tenant id (a collision only serialises two tenants' creation). */
function lockKey(tenantId: string): number {
  return createHash("sha256").update(tenantId, "utf8").digest().readInt32BE(0);
}

function definedOnly(opts: Partial<MigrationFolders>): Partial<MigrationFolders> {
  const out: Partial<MigrationFolders> = {};
  if (opts.controlDir !== undefined) out.controlDir = opts.controlDir;
  if (opts.tenantDir !== undefined) out.tenantDir = opts.tenantDir;
  return out;
}
