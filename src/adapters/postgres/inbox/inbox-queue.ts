/**
 * `control.webhook_inbox` as a work queue shared by every replica.
 *
 * - claim: in one short transaction, take the oldest claimable rows with
 *   FOR UPDATE SKIP LOCKED and give them a lease (locked_by, locked_until)
 *   and an attempt. Claimable = pending, validly signed, a provider we can
 *   read, and no live lease (locked_until null or past). The attempt is
 *   counted here, committed before any work, so a row that crashes its
 *   worker still reaches its attempt limit.
 * - process: one transaction per batch of claimed rows that first locks
 *   them and keeps those still pending and still ours, applies their
 *   deliveries one after another and marks them done. A crash rolls
 *   everything back; the leases expire and the rows are claimed again. While
 *   a worker holds a row lock nobody else can claim the row, so a delivery is
 *   applied at most once even if its lease runs out mid-way.
 * - fail: after an error, in its own transaction: back to pending with a
 *   retry time in locked_until, or `failed` once the attempts are spent.
 */
import { and, eq, sql } from "drizzle-orm";

import type { InboundDelivery } from "../../../domain/inbound.js";
import type { InboundStore } from "../../../ports/inbound-store.js";
import type { AppliedDelivery, BatchRowResult, ClaimedDelivery, FinalStatus, InboxQueue, PlannedDelivery } from "../../../ports/inbox-queue.js";
import type { Provider } from "../../../domain/account.js";
import type { Database } from "../db/database.js";
import { PostgresInboundStore } from "./inbound-store.js";
import { TransactionBatch } from "./transaction-batch.js";
import { lockWamidsInOrder } from "./wamid-locks.js";
import { hot, preparedRows } from "../db/prepared-query.js";
import { webhookInbox } from "../schema/control.js";

/** A claimed row (the inbox queue port's ClaimedDelivery). */
export type ClaimedRow = ClaimedDelivery;

export interface ClaimOptions {
  workerId: string;
  limit: number;
  leaseMs: number;
  providers: readonly string[];
}

export async function claimInboxRows(db: Database, options: ClaimOptions): Promise<ClaimedRow[]> {
  const rows = await preparedRows<{ id: string; attempts: number; received_ms: string | number; body: Buffer; provider: string; path: string; trace_context: string | null }>(
    db,
    hot`
      update ${webhookInbox}
         set locked_by = ${options.workerId},
             locked_until = now() + make_interval(secs => ${options.leaseMs / 1000}),
             attempts = attempts + 1
       where id in (
         select id from ${webhookInbox}
          where status = 'pending'
            and signature_valid
            and provider = any(${[...options.providers]}::text[])
            -- Our own lease too: a worker claims only when it has nothing in flight, so a row still leased to it
            -- was orphaned (a claim whose answer the connection lost, or a batch given up while the database was
            -- away) and need not wait out the lease.
            and (locked_until is null or locked_until < now() or locked_by = ${options.workerId})
          order by received_at, id
          limit ${options.limit}
          for update skip locked)
      returning id, attempts, extract(epoch from received_at) * 1000 as received_ms, body, provider, path, trace_context`,
  );
  return rows
    .map((r) => ({
      id: r.id,
      attempts: Number(r.attempts),
      receivedAt: new Date(Number(r.received_ms)),
      body: toBuffer(r.body),
      provider: r.provider,
      path: r.path,
      traceContext: r.trace_context ?? null,
    }))
    .sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime() || (a.id < b.id ? -1 : 1));
}

/**
 * Inside the processing transaction: locks the rows that are still pending
 * and leased to `workerId` and returns their ids; rows another worker has
 * taken or that are done already are left out.
 *
 * It waits for row locks instead of skipping locked rows: another replica's
 * claim query briefly locks rows it then finds leased (PostgreSQL locks
 * before re-checking the condition), and skipping then would leave our own
 * claimed rows untouched until their lease ran out. Claims never wait (SKIP
 * LOCKED), so this wait is short and cannot deadlock; the rows are locked in
 * id order all the same.
 */
export async function lockClaimedRows(tx: Database, ids: readonly string[], workerId: string): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  // One statement text whatever the number of rows (an array parameter): prepared once per connection.
  const rows = await preparedRows<{ id: string }>(
    tx,
    hot`
      select id from ${webhookInbox}
       where id = any(${[...ids]}::uuid[])
         and status = 'pending'
         and locked_by = ${workerId}
       order by id
       for update`,
  );
  return new Set(rows.map((r) => String(r.id)));
}

export type { FinalStatus };

/** In the processing transaction: these rows are done, in one statement. */
export async function markInboxRows(tx: Database, done: readonly { id: string; status: FinalStatus; error?: string }[]): Promise<void> {
  if (done.length === 0) return;
  // Array parameters expanded by unnest: one statement text for any number of rows.
  await preparedRows(tx, hot`
    update ${webhookInbox} as inbox
       set status = done.status, processed_at = now(), locked_by = null, locked_until = null, error = done.error
      from unnest(${done.map((d) => d.id)}::uuid[], ${done.map((d) => d.status)}::text[], ${done.map((d) => d.error ?? null)}::text[])
           as done (id, status, error)
     where inbox.id = done.id`);
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

/** postgres.js returns bytea as a Buffer; PGlite as a Uint8Array. */
function toBuffer(value: Buffer | Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** Deadlocks and serialization failures are retried at once, this many times, before counting as a failed attempt. */
const TRANSIENT_RETRIES = 3;

export interface PostgresInboxQueueOptions {
  newId: () => string;
  now: () => Date;
}

/** The inbox queue port on PostgreSQL (PGlite too). */
export class PostgresInboxQueue implements InboxQueue {
  readonly #db: Database;
  readonly #options: PostgresInboxQueueOptions;

  constructor(db: Database, options: PostgresInboxQueueOptions) {
    this.#db = db;
    this.#options = options;
  }

  claim(options: { workerId: string; limit: number; leaseMs: number; providers: readonly string[] }): Promise<ClaimedDelivery[]> {
    return claimInboxRows(this.#db, options);
  }

  async applyBatch<T>(
    workerId: string,
    batch: readonly PlannedDelivery[],
    apply: (items: { delivery: InboundDelivery; store: InboundStore }[]) => Promise<AppliedDelivery<T>[]>,
  ): Promise<BatchRowResult<T>[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#db.transaction((tx) => this.#applyInTransaction(tx, workerId, batch, apply));
      } catch (error) {
        if (isTransient(error) && attempt < TRANSIENT_RETRIES) continue;
        throw error;
      }
    }
  }

  recordFailure(
    row: ClaimedDelivery,
    options: { workerId: string; maxAttempts: number; retryInMs: number; error: string },
  ): Promise<"pending" | "failed" | undefined> {
    return recordInboxFailure(this.#db, row, options);
  }

  async #applyInTransaction<T>(
    tx: Database,
    workerId: string,
    batch: readonly PlannedDelivery[],
    apply: (items: { delivery: InboundDelivery; store: InboundStore }[]) => Promise<AppliedDelivery<T>[]>,
  ): Promise<BatchRowResult<T>[]> {
    const shared = new TransactionBatch();
    // Independent statements sent together (the driver pipelines them): the rows' locks and every account the batch names.
    const [ours] = await Promise.all([
      lockClaimedRows(
        tx,
        batch.map((p) => p.row.id),
        workerId,
      ),
      shared.prefetchAccounts(tx, batch.flatMap(numbersOf)),
    ]);
    const results: BatchRowResult<T>[] = [];
    const done: { id: string; status: FinalStatus; error?: string }[] = [];
    const applied: { at: number; row: ClaimedDelivery; delivery: InboundDelivery }[] = [];
    for (const planned of batch) {
      const { row } = planned;
      if (!ours.has(row.id)) {
        results.push({ status: "not_ours" });
      } else if (planned.kind === "malformed") {
        done.push({ id: row.id, status: "malformed", error: planned.reason });
        results.push({ status: "malformed" });
      } else {
        applied.push({ at: results.length, row, delivery: planned.delivery });
        results.push({ status: "processed" });
      }
    }
    await lockWamidsInOrder(tx, applied.flatMap(({ delivery }) => statusWamids(delivery)));
    const outcomes = await apply(
      applied.map(({ row, delivery }) => ({
        delivery,
        store: new PostgresInboundStore(tx, {
          inboxId: row.id,
          newId: this.#options.newId,
          now: this.#options.now,
          batch: shared,
        }),
      })),
    );
    applied.forEach(({ at, row }, i) => {
      const { status, outcome } = outcomes[i]!;
      done.push({ id: row.id, status });
      results[at] = { status, outcome };
    });
    // Independent statements sent together: the driver pipelines them (one round trip).
    await Promise.all([shared.flush(tx), markInboxRows(tx, done)]);
    return results;
  }
}

/** The numbers a delivery's changes name (their accounts are looked up up front, at once). */
function numbersOf(planned: PlannedDelivery): { provider: Provider; phoneNumberId: string }[] {
  if (planned.kind !== "delivery") return [];
  return planned.delivery.changes.flatMap((change) => (change.phoneNumberId ? [{ provider: change.provider, phoneNumberId: change.phoneNumberId }] : []));
}

/** The wamids a delivery's statuses name (their locks are taken up front, in order). */
function statusWamids(delivery: InboundDelivery): string[] {
  return delivery.changes.flatMap((change) => (change.kind === "messaging" ? change.statuses.map((s) => s.wamid) : []));
}

/** Deadlock (40P01) or serialization failure (40001), through drizzle's error wrapping. */
function isTransient(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === "object" && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === "40P01" || code === "40001") return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
