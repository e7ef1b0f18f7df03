/**
 * `control.webhook_inbox` as a work queue shared by every replica.
 *
 * - claim: in one short transaction, take the oldest claimable rows with
 *   FOR UPDATE SKIP LOCKED and give them a lease (locked_by, locked_until)
 *   and an attempt. Claimable = pending, validly signed, a provider we can
 *   read, and no live lease (locked_until null or past). The attempt is
 *   counted here, committed before any work, so a row that crashes its
 *   worker still reaches its attempt limit.
 * - process: one transaction per row that first locks the row and checks
 *   it is still pending and still ours, applies the delivery and
 *   marks it processed. A crash rolls everything back; the lease expires and
 *   the row is claimed again. While a worker holds the row lock nobody else
 *   can claim it, so a delivery is applied at most once even if its lease
 *   runs out mid-way.
 * - fail: after an error, in its own transaction: back to pending with a
 *   retry time in locked_until, or `failed` once the attempts are spent.
 */
import { and, eq, sql } from "drizzle-orm";

import type { Database } from "./database.js";
import { queryRows } from "./database.js";
import { webhookInbox } from "./schema/control.js";

export interface ClaimedRow {
  id: string;
  /** Attempts including this one. */
  attempts: number;
  receivedAt: Date;
}

export interface ClaimOptions {
  workerId: string;
  limit: number;
  leaseMs: number;
  providers: readonly string[];
}

export async function claimInboxRows(db: Database, options: ClaimOptions): Promise<ClaimedRow[]> {
  const providers = sql.join(
    options.providers.map((p) => sql`${p}`),
    sql`, `,
  );
  const rows = await queryRows<{ id: string; attempts: number; received_ms: string | number }>(
    db,
    sql`
      update ${webhookInbox}
         set locked_by = ${options.workerId},
             locked_until = now() + make_interval(secs => ${options.leaseMs / 1000}),
             attempts = attempts + 1
       where id in (
         select id from ${webhookInbox}
          where status = 'pending'
            and signature_valid
            and provider in (${providers})
            and (locked_until is null or locked_until < now())
          order by received_at, id
          limit ${options.limit}
          for update skip locked)
      returning id, attempts, extract(epoch from received_at) * 1000 as received_ms`,
  );
  return rows
    .map((r) => ({ id: r.id, attempts: Number(r.attempts), receivedAt: new Date(Number(r.received_ms)) }))
    .sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime() || (a.id < b.id ? -1 : 1));
}

export interface LockedRow {
  provider: string;
  body: Buffer;
  receivedAt: Date;
}

/**
 * Inside the processing transaction: locks the row if it is still pending
 * and leased to `workerId`; undefined when another worker has it or it is
 * done already.
 *
 * It waits for the row lock instead of skipping a locked row: another
 * replica's claim query briefly locks rows it then finds leased (PostgreSQL
 * locks before re-checking the condition), and skipping then would leave
 * our own claimed row untouched until its lease ran out. Claims never wait
 * (SKIP LOCKED), so this wait is short and cannot deadlock.
 */
export async function lockClaimedRow(tx: Database, id: string, workerId: string): Promise<LockedRow | undefined> {
  const [row] = await tx
    .select({
      provider: webhookInbox.provider,
      body: webhookInbox.body,
      receivedAt: webhookInbox.receivedAt,
      status: webhookInbox.status,
      lockedBy: webhookInbox.lockedBy,
    })
    .from(webhookInbox)
    .where(eq(webhookInbox.id, id))
    .for("update");
  if (!row || row.status !== "pending" || row.lockedBy !== workerId) return undefined;
  return { provider: row.provider, body: row.body, receivedAt: row.receivedAt };
}

export type FinalStatus = "processed" | "unroutable" | "malformed";

/** In the processing transaction: the row is done. */
export async function markInboxRow(tx: Database, id: string, status: FinalStatus, error?: string): Promise<void> {
  await tx
    .update(webhookInbox)
    .set({ status, processedAt: sql`now()`, lockedBy: null, lockedUntil: null, error: error ?? null })
    .where(eq(webhookInbox.id, id));
}

/**
 * After a failed attempt: pending again, claimable from `retryInMs` on, or
 * `failed` when `attempts` reached `maxAttempts`. Only while the lease is
 * still ours. Returns the row's new status, or undefined if it was not ours.
 */
export async function recordInboxFailure(
  db: Database,
  row: { id: string; attempts: number },
  options: { workerId: string; maxAttempts: number; retryInMs: number; error: string },
): Promise<"pending" | "failed" | undefined> {
  const exhausted = row.attempts >= options.maxAttempts;
  const [updated] = await db
    .update(webhookInbox)
    .set(
      exhausted
        ? { status: "failed", processedAt: sql`now()`, lockedBy: null, lockedUntil: null, error: options.error }
        : {
            lockedBy: null,
            lockedUntil: sql`now() + make_interval(secs => ${options.retryInMs / 1000})`,
            error: options.error,
          },
    )
    .where(and(eq(webhookInbox.id, row.id), eq(webhookInbox.status, "pending"), eq(webhookInbox.lockedBy, options.workerId)))
    .returning({ status: webhookInbox.status });
  return updated ? (updated.status as "pending" | "failed") : undefined;
}
