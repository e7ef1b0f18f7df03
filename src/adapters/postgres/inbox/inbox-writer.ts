import { sql } from "drizzle-orm";

import { InboxClosedError, InboxFullError, InboxWriteTimeoutError, type InboxRow, type OwnDeliveries, type WebhookInbox } from "../../../ports/webhook-inbox.js";
import type { Database } from "../db/database.js";
import { hot, preparedRows } from "../db/prepared-query.js";
import { webhookInbox } from "../schema/control.js";

/**
 * Durable writes to `control.webhook_inbox` with group commit.
 *
 * Every webhook delivery must be committed before it is answered 200 (SPEC
 * §4). Committing each on its own costs one round trip and one WAL flush per
 * delivery; under load, deliveries that arrive together share ONE multi-row
 * INSERT (one statement, one commit) instead, and each caller's promise still
 * resolves only after that commit — or rejects if it failed.
 *
 * No timer adds latency: a write starts a flush at the end of the current
 * event-loop turn (so deliveries read in the same turn go together); writes
 * that arrive while flushes are running wait for the next free flush slot
 * and go in together. At low load every delivery is its own batch; as load
 * rises, batches grow by themselves.
 *
 * The queue is bounded (rows and bytes): past it, `write` rejects at once
 * with `InboxFullError` and the edge answers 503 — Meta retries later, and
 * memory stays bounded however fast deliveries come.
 */

/** Inserts the rows in ONE statement (one commit); rejects if none was stored. */
export type InsertInboxRows = (rows: readonly InboxRow[]) => Promise<void>;

export interface InboxWriterOptions {
  /** Most rows in one INSERT (PostgreSQL allows 65,535 parameters; a row uses 8). */
  maxBatchRows: number;
  /** Most body bytes in one INSERT (a single larger row still goes alone). */
  maxBatchBytes: number;
  /** Rows waiting (queued, not yet flushing) before `write` refuses. */
  maxQueuedRows: number;
  /** Body bytes waiting before `write` refuses. */
  maxQueuedBytes: number;
  /** INSERTs running at once; each holds one pool connection. */
  maxConcurrentFlushes: number;
}

export const DEFAULT_INBOX_WRITER_OPTIONS: InboxWriterOptions = {
  maxBatchRows: 500,
  maxBatchBytes: 8 * 1024 * 1024,
  maxQueuedRows: 10_000,
  maxQueuedBytes: 64 * 1024 * 1024,
  maxConcurrentFlushes: 2,
};

/** The INSERT carrying this row failed; `cause` is the database error. */
export class InboxWriteError extends Error {
  constructor(cause: unknown) {
    super("webhook inbox insert failed", { cause });
    this.name = "InboxWriteError";
  }
}

export interface InboxWriterStats {
  queuedRows: number;
  queuedBytes: number;
  flushesInFlight: number;
  /** Successful INSERTs (each one commit). */
  commits: number;
  rowsCommitted: number;
  failedFlushes: number;
  /** Writes refused because the queue was full. */
  refusedFull: number;
  largestBatch: number;
}

interface PendingWrite {
  row: InboxRow;
  state: "queued" | "flushing" | "settled";
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

export { InboxClosedError, InboxFullError, InboxWriteTimeoutError, type InboxRow, type InboxStatus } from "../../../ports/webhook-inbox.js";

export class InboxWriter implements WebhookInbox {
  readonly #insert: InsertInboxRows;
  readonly #options: InboxWriterOptions;
  #queue: PendingWrite[] = [];
  #queuedBytes = 0;
  #inFlight = 0;
  #flushScheduled = false;
  #closed = false;
  #idleWaiters: (() => void)[] = [];
  readonly #stats = { commits: 0, rowsCommitted: 0, failedFlushes: 0, refusedFull: 0, largestBatch: 0 };

  constructor(insert: InsertInboxRows, options: Partial<InboxWriterOptions> = {}) {
    this.#insert = insert;
    this.#options = { ...DEFAULT_INBOX_WRITER_OPTIONS, ...options };
    for (const [name, value] of Object.entries(this.#options)) {
      if (!Number.isInteger(value) || value < 1) throw new Error(`InboxWriter: ${name} must be a positive integer`);
    }
  }

  /** A writer that inserts into `control.webhook_inbox` of `db`. */
  static forDatabase(db: Database, options: Partial<InboxWriterOptions> = {}): InboxWriter {
    return new InboxWriter(insertIntoWebhookInbox(db), options);
  }

  /**
   * Queues the row; resolves once the INSERT that carries it has committed.
   * Rejects with InboxFullError (queue at its bound), InboxClosedError,
   * InboxWriteTimeoutError (`timeoutMs` passed first) or InboxWriteError.
   */
  write(row: InboxRow, options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#closed) return Promise.reject(new InboxClosedError());
    const wouldQueueBytes = this.#queuedBytes + row.body.length;
    // An empty queue always takes one row, however large, so a single big
    // delivery is never refused for size by an idle writer.
    if (this.#queue.length > 0 && (this.#queue.length >= this.#options.maxQueuedRows || wouldQueueBytes > this.#options.maxQueuedBytes)) {
      this.#stats.refusedFull++;
      return Promise.reject(new InboxFullError());
    }
    return new Promise<void>((resolve, reject) => {
      const pending: PendingWrite = { row, state: "queued", resolve, reject, timer: undefined };
      if (options.timeoutMs !== undefined) {
        pending.timer = setTimeout(() => this.#timeOut(pending, options.timeoutMs!), options.timeoutMs);
      }
      this.#queue.push(pending);
      this.#queuedBytes += row.body.length;
      this.#scheduleFlush();
    });
  }

  stats(): InboxWriterStats {
    return { queuedRows: this.#queue.length, queuedBytes: this.#queuedBytes, flushesInFlight: this.#inFlight, ...this.#stats };
  }

  /** Refuses new writes and resolves once every queued row has been flushed (committed or failed). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#queue.length === 0 && this.#inFlight === 0) return;
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#inFlight >= this.#options.maxConcurrentFlushes) return;
    this.#flushScheduled = true;
    // End of this event-loop turn: deliveries whose bodies finished arriving
    // in the same turn join the batch, and no timer delays the first one.
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#startFlushes();
    });
  }

  #startFlushes(): void {
    while (this.#inFlight < this.#options.maxConcurrentFlushes && this.#queue.length > 0) {
      void this.#flush(this.#takeBatch());
    }
    this.#notifyIfIdle();
  }

  #takeBatch(): PendingWrite[] {
    let count = 0;
    let bytes = 0;
    for (const pending of this.#queue) {
      if (count > 0 && (count >= this.#options.maxBatchRows || bytes + pending.row.body.length > this.#options.maxBatchBytes)) break;
      count++;
      bytes += pending.row.body.length;
    }
    const batch = this.#queue.splice(0, count);
    this.#queuedBytes -= bytes;
    for (const pending of batch) pending.state = "flushing";
    return batch;
  }

  async #flush(batch: PendingWrite[]): Promise<void> {
    this.#inFlight++;
    try {
      await this.#insert(batch.map((p) => p.row));
      this.#stats.commits++;
      this.#stats.rowsCommitted += batch.length;
      this.#stats.largestBatch = Math.max(this.#stats.largestBatch, batch.length);
      for (const pending of batch) settle(pending, () => pending.resolve());
    } catch (cause) {
      this.#stats.failedFlushes++;
      const error = new InboxWriteError(cause);
      for (const pending of batch) settle(pending, () => pending.reject(error));
    } finally {
      this.#inFlight--;
      this.#startFlushes();
    }
  }

  #timeOut(pending: PendingWrite, timeoutMs: number): void {
    if (pending.state === "settled") return;
    if (pending.state === "queued") {
      // Not in any INSERT yet: take it out, so it is surely not stored.
      const index = this.#queue.indexOf(pending);
      if (index >= 0) {
        this.#queue.splice(index, 1);
        this.#queuedBytes -= pending.row.body.length;
      }
    }
    const maybeStored = pending.state === "flushing";
    pending.state = "settled";
    pending.reject(new InboxWriteTimeoutError(timeoutMs, maybeStored));
    this.#notifyIfIdle();
  }

  #notifyIfIdle(): void {
    if (this.#queue.length > 0 || this.#inFlight > 0) return;
    for (const wake of this.#idleWaiters.splice(0)) wake();
  }
}

function settle(pending: PendingWrite, outcome: () => void): void {
  if (pending.state === "settled") return;
  pending.state = "settled";
  clearTimeout(pending.timer);
  outcome();
}

/**
 * One INSERT for the whole batch: a single statement commits (or fails) as a
 * whole, with no BEGIN/COMMIT round trips. The rows travel as eight array
 * parameters expanded by `unnest`, so the statement text is the same for
 * every batch size — a named prepared statement (prepared-query.ts): one
 * round trip, where drizzle's unnamed statements take two — and building it
 * costs the same for 1 row as for 500 (drizzle's `values([...])` spends
 * ~20 µs per row on building).
 * Every array is text (bodies hex-encoded, the flag as 'true'/'false'): text
 * arrays serialise identically on postgres.js and PGlite, other element types
 * do not.
 */
export function insertIntoWebhookInbox(db: Database): InsertInboxRows {
  return async (rows) => {
    if (rows.length === 0) return;
    const column = <T>(pick: (row: InboxRow) => T) => rows.map(pick);
    await preparedRows(db, hot`
      insert into ${webhookInbox} (id, provider, path, account_hint, headers, body, signature_valid, status)
      select id, provider, path, account_hint, headers, decode(body_hex, 'hex'), signature_valid = 'true', status
      from unnest(
        ${column((r) => r.id)}::uuid[],
        ${column((r) => r.provider)}::text[],
        ${column((r) => r.path)}::text[],
        ${column((r) => r.accountHint)}::text[],
        ${column((r) => JSON.stringify(r.headers))}::jsonb[],
        ${column((r) => r.body.toString("hex"))}::text[],
        ${column((r) => String(r.signatureValid))}::text[],
        ${column((r) => r.status)}::text[]
      ) as batch(id, provider, path, account_hint, headers, body_hex, signature_valid, status)`);
  };
}

/**
 * Writes Meta-shaped webhook bodies into the inbox as a provider's own
 * deliveries (the sandbox's statuses; trusted: made here). A delivery with
 * `afterMs` > 0 "arrives" that much later: not claimable before (the inbox
 * row's not-before time), and ordered after the earlier ones (the inbox
 * claims by received_at).
 */
export class PostgresOwnDeliveries implements OwnDeliveries {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async write(delivery: { provider: string; accountId: string }, deliveries: readonly { body: string; afterMs: number }[]): Promise<void> {
    await this.#db.insert(webhookInbox).values(
      deliveries.map(({ body, afterMs }) => ({
        provider: delivery.provider,
        path: "/sandbox",
        accountHint: delivery.accountId,
        body: Buffer.from(body, "utf8"),
        signatureValid: true,
        ...(afterMs > 0 ? { receivedAt: sql`now() + make_interval(secs => ${afterMs / 1000})`, lockedUntil: sql`now() + make_interval(secs => ${afterMs / 1000})` } : {}),
      })),
    );
  }
}
