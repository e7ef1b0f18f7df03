import { mkdir } from "node:fs/promises";
import path from "node:path";

import { PGlite } from "@electric-sql/pglite";
import type { ExtractTablesWithRelations, SQL } from "drizzle-orm";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";

import * as schema from "../schema/index.js";

export type Schema = typeof schema;

/**
 * The one database type the rest of the code sees, whichever driver is
 * underneath (postgres.js or embedded PGlite). A transaction is also a
 * Database, so helpers typed `Database` accept either.
 */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type Transaction = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

export type DatabaseKind = "postgres" | "pglite";

/** The subset of a pino logger this module uses. */
export interface DatabaseLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface OpenDatabaseOptions {
  /** PostgreSQL URL; when absent, an embedded PGlite under `${dataDir}/pglite` is used. */
  databaseUrl?: string | undefined;
  dataDir: string;
  logger?: DatabaseLogger | undefined;
  /** postgres.js pool size (default 10). */
  poolSize?: number | undefined;
}

export interface DatabaseHandle {
  db: Database;
  kind: DatabaseKind;
  /** Ends the pool / closes PGlite. Idempotent. */
  close(): Promise<void>;
  /** `select 1` within `timeoutMs` (default 2000); rejects when the database does not answer. */
  ping(timeoutMs?: number): Promise<void>;
}

export const DEFAULT_POOL_SIZE = 10;
const DEFAULT_PING_TIMEOUT_MS = 2_000;

export async function openDatabase(opts: OpenDatabaseOptions): Promise<DatabaseHandle> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, opts) : openPglite(opts);
}

function openPostgres(databaseUrl: string, opts: OpenDatabaseOptions): DatabaseHandle {
  const client = postgres(databaseUrl, {
    max: opts.poolSize ?? DEFAULT_POOL_SIZE,
    // Recycle connections (seconds) so failovers and pgbouncer restarts are picked up.
    max_lifetime: 60 * 30,
    idle_timeout: 60,
    connect_timeout: 10,
    // Reconnect quickly after a failover or restart: postgres.js's default waits up to 20 s between attempts once a
    // few have failed (3^n / 100 s), which kept the service down for seconds after the database was back.
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
    // NOTICEs (e.g. "schema already exists, skipping") are not log material.
    onnotice: () => {},
    connection: { application_name: "whatsapp-service" },
  });
  const db: Database = drizzlePostgres({ client, schema });
  let closed: Promise<void> | undefined;
  return {
    db,
    kind: "postgres",
    close: () => (closed ??= client.end({ timeout: 5 })),
    ping: (timeoutMs) => ping(db, timeoutMs),
  };
}

async function openPglite(opts: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const dir = path.resolve(opts.dataDir, "pglite");
  await mkdir(dir, { recursive: true });
  opts.logger?.warn(
    { dataDir: dir },
    "DATABASE_URL is not set: using an EMBEDDED PGlite database — for trying the service on a laptop, not for production",
  );
  const client = await PGlite.create(dir);
  const db: Database = drizzlePglite({ client, schema });
  let closed: Promise<void> | undefined;
  return {
    db,
    kind: "pglite",
    close: () => (closed ??= client.close()),
    ping: (timeoutMs) => ping(db, timeoutMs),
  };
}

async function ping(db: Database, timeoutMs = DEFAULT_PING_TIMEOUT_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`database did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([db.execute(sql`select 1`), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs a raw query and returns its rows. postgres.js answers with an array,
 * PGlite with `{ rows }`; this hides the difference.
 */
export async function queryRows<T extends Record<string, unknown>>(db: Database, query: SQL): Promise<T[]> {
  const result: unknown = await db.execute(query);
  if (Array.isArray(result)) return result as T[];
  if (result !== null && typeof result === "object" && "rows" in result && Array.isArray(result.rows)) {
    return result.rows as T[];
  }
  throw new Error("unexpected query result shape");
}
