import { createHash } from "node:crypto";

import { sql } from "drizzle-orm";

import { DomainError } from "../../../domain/errors.js";
import { validateTenantId } from "../../../domain/tenant.js";
import type { Database, Transaction } from "./database.js";
import { hot, preparedRows } from "./prepared-query.js";
import { tenants } from "../schema/control.js";

/**
 * The schema that holds a tenant's tables: `t_` + the id lowercased with
 * anything but [a-z0-9] turned into `_` (at most 50 chars) + `_` + 8 hex chars
 * of sha256(id). The hash keeps ids apart that the readable part merges
 * (`a-b`/`a_b`, `Acme`/`acme`); the whole is ≤ 61 chars, within PostgreSQL's
 * 63-byte identifier limit, and needs no quoting (it is quoted anyway).
 */
export function tenantSchemaName(tenantId: string): string {
  assertTenantId(tenantId);
  const readable = tenantId
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "_")
    .slice(0, 50);
  const digest = createHash("sha256").update(tenantId, "utf8").digest("hex").slice(0, 8);
  return `t_${readable}_${digest}`;
}

/** Checked again here, not only at the edge, because the id names a schema. */
export function assertTenantId(tenantId: string): void {
  const problem = validateTenantId(tenantId);
  if (problem !== undefined) throw DomainError.invalid([{ field: "tenant_id", description: problem }]);
}

/**
 * Runs `fn` in one transaction whose search_path is only the tenant's schema
 * (and pg_catalog — never public), so the unqualified tenant tables
 * (contacts, conversations, messages…) resolve to that tenant's rows and no
 * other. Control tables stay reachable: they are schema-qualified.
 *
 * When the tenant has no schema yet, tenant tables resolve to nothing and the
 * query fails ("relation does not exist") instead of reading elsewhere.
 */
export async function withTenant<T>(db: Database, tenantId: string, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  const schemaName = tenantSchemaName(tenantId);
  return db.transaction(async (tx) => {
    await setTenantSearchPath(tx, schemaName);
    return fn(tx);
  });
}

/** `SET LOCAL search_path TO "<schema>", pg_catalog` — inside a transaction only. */
export async function setTenantSearchPath(tx: Database, schemaName: string): Promise<void> {
  await tx.execute(sql`set local search_path to ${sql.identifier(schemaName)}, pg_catalog`);
}

/**
 * Whether the tenant has been set up (a row in control.tenants, hence its
 * schema): before that its tables do not exist, and a read must answer
 * "not found" instead of failing on a missing table.
 */
export async function tenantExists(db: Database, tenantId: string): Promise<boolean> {
  const rows = await preparedRows(db, hot`select 1 as one from ${tenants} where id = ${tenantId} limit 1`);
  return rows.length > 0;
}
