/**
 * Processes webhook deliveries after they were answered: claims rows of
 * `control.webhook_inbox` (see inbox-queue.ts for the claim and lease
 * protocol), applies each delivery in ONE transaction that also marks its row
 * done, and writes the events of every change to the outbox in that same
 * transaction. Safe with any number of replicas; rows left by a crash are
 * claimed again once their lease runs out (rows never claimed, at once).
 */
import { randomBytes } from "node:crypto";

import { processWebhookDelivery, type DeliveryOutcome } from "../../app/process-webhook-delivery.js";
import { MalformedWebhookError, parseMetaWebhookBody } from "../providers/meta/webhook-payload.js";
import type { Wakeup } from "../shared/wakeup.js";
import type { Database } from "./database.js";
import { PostgresInboundStore } from "./inbound-store.js";
import { claimInboxRows, lockClaimedRow, markInboxRow, recordInboxFailure, type ClaimedRow, type FinalStatus } from "./inbox-queue.js";

/** The subset of a pino logger the worker uses. */
export interface InboxWorkerLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export interface InboxWorkerOptions {
  db: Database;
  logger: InboxWorkerLogger;
  /** Notified when a delivery is committed to the inbox: look now instead of at the next poll. */
  wakeup?: Wakeup;
  /** Called after a commit that wrote events (the relay's wake-up). */
  onEventsCommitted?: () => void;
  newId: () => string;
  now: () => Date;
  /** Names this worker in `locked_by`; default: host-independent random id. */
  workerId?: string;
  /** Deliveries processed at once (each holds one pool connection). Default 4. */
  concurrency?: number;
  /** Longest sleep without a wake-up. Default 1000 ms. */
  pollIntervalMs?: number;
  /** How long a claim protects a row before another worker may take it. Default 60 s. */
  leaseMs?: number;
  /** Attempts before a row is marked `failed`. Default 5. */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt, at most 5 minutes. Default 1000 ms. */
  retryDelayMs?: number;
}

export interface InboxWorkerStats {
  /** Rows this worker committed as processed. */
  processed: number;
  /** Rows whose every change was unroutable. */
  unroutable: number;
  /** Changes (parts of deliveries) no account claimed. */
  unroutableChanges: number;
  malformed: number;
  /** Attempts that failed (and were rolled back). */
  failedAttempts: number;
  /** Rows given up after maxAttempts. */
  failed: number;
  /** Events written to the outbox. */
  events: number;
}

/** Totals of every inbox worker of the process, for /metrics and operators. */
export const inboxWorkerCounters: InboxWorkerStats = emptyStats();

/** Providers whose deliveries this worker can read. */
const PROVIDERS = ["meta"] as const;
/** Deadlocks and serialization failures are retried at once, this many times, before counting as a failed attempt. */
const TRANSIENT_RETRIES = 3;
const MAX_RETRY_DELAY_MS = 5 * 60_000;
const MAX_ERROR_LENGTH = 2_000;

type RowResult = { status: FinalStatus; outcome?: DeliveryOutcome } | { status: "not_ours" };

export class InboxWorker {
  readonly workerId: string;
  readonly #db: Database;
  readonly #logger: InboxWorkerLogger;
  readonly #wakeup: Wakeup | undefined;
  readonly #onEventsCommitted: () => void;
  readonly #deps: { newId: () => string; now: () => Date };
  readonly #concurrency: number;
  readonly #pollIntervalMs: number;
  readonly #leaseMs: number;
  readonly #maxAttempts: number;
  readonly #retryDelayMs: number;
  readonly #stats = emptyStats();
  #abort: AbortController | undefined;
  #running: Promise<void> | undefined;

  constructor(options: InboxWorkerOptions) {
    this.#db = options.db;
    this.#logger = options.logger;
    this.#wakeup = options.wakeup;
    this.#onEventsCommitted = options.onEventsCommitted ?? (() => {});
    this.#deps = { newId: options.newId, now: options.now };
    this.workerId = options.workerId ?? `inbox-${randomBytes(6).toString("hex")}`;
    this.#concurrency = positive(options.concurrency ?? 4, "concurrency");
    this.#pollIntervalMs = positive(options.pollIntervalMs ?? 1_000, "pollIntervalMs");
    this.#leaseMs = positive(options.leaseMs ?? 60_000, "leaseMs");
    this.#maxAttempts = positive(options.maxAttempts ?? 5, "maxAttempts");
    this.#retryDelayMs = positive(options.retryDelayMs ?? 1_000, "retryDelayMs");
  }

  /** Starts the loop: claim, process, and sleep until woken or the poll interval passes when idle. */
  start(): void {
    if (this.#running) return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#running = this.#loop(abort.signal);
    this.#logger.info({ workerId: this.workerId, concurrency: this.#concurrency }, "inbox worker started");
  }

  /** Stops claiming; resolves once the deliveries in progress have committed or rolled back. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#abort?.abort();
    await this.#running;
    this.#running = undefined;
    this.#logger.info({ workerId: this.workerId, ...this.#stats }, "inbox worker stopped");
  }

  stats(): InboxWorkerStats {
    return { ...this.#stats };
  }

  /** Claims up to `concurrency` rows and processes them; the number claimed (0 when idle). */
  async runOnce(): Promise<number> {
    const rows = await claimInboxRows(this.#db, {
      workerId: this.workerId,
      limit: this.#concurrency,
      leaseMs: this.#leaseMs,
      providers: PROVIDERS,
    });
    await Promise.all(rows.map((row) => this.#process(row)));
    return rows.length;
  }

  async #loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let claimed = 0;
      try {
        claimed = await this.runOnce();
      } catch (error) {
        // The database is unreachable or refused the claim: try again later.
        this.#logger.error({ err: error, workerId: this.workerId }, "inbox claim failed");
      }
      if (claimed === 0 && !signal.aborted) await this.#idle(signal);
    }
  }

  #idle(signal: AbortSignal): Promise<void> {
    if (this.#wakeup) return this.#wakeup.wait(this.#pollIntervalMs, signal);
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.#pollIntervalMs);
      signal.addEventListener("abort", done, { once: true });
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
    });
  }

  async #process(row: ClaimedRow): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.#db.transaction((tx) => this.#processInTransaction(tx, row));
        this.#committed(row, result);
        return;
      } catch (error) {
        if (isTransient(error) && attempt < TRANSIENT_RETRIES) continue;
        await this.#failed(row, error);
        return;
      }
    }
  }

  async #processInTransaction(tx: Database, row: ClaimedRow): Promise<RowResult> {
    const locked = await lockClaimedRow(tx, row.id, this.workerId);
    if (!locked) return { status: "not_ours" };
    let delivery;
    try {
      delivery = parseMetaWebhookBody(locked.body, { receivedAt: locked.receivedAt });
    } catch (error) {
      if (!(error instanceof MalformedWebhookError)) throw error;
      await markInboxRow(tx, row.id, "malformed", error.message);
      return { status: "malformed" };
    }
    const store = new PostgresInboundStore(tx, { inboxId: row.id, newId: this.#deps.newId });
    const outcome = await processWebhookDelivery(delivery, store, this.#deps);
    const status = outcome.unroutableChanges > 0 && outcome.routedChanges === 0 ? "unroutable" : "processed";
    await markInboxRow(tx, row.id, status);
    return { status, outcome };
  }

  #committed(row: ClaimedRow, result: RowResult): void {
    if (result.status === "not_ours") return;
    const outcome = result.outcome;
    const add = (key: keyof InboxWorkerStats, n: number) => {
      this.#stats[key] += n;
      inboxWorkerCounters[key] += n;
    };
    if (result.status === "malformed") {
      add("malformed", 1);
      this.#logger.warn({ inboxId: row.id }, "webhook delivery is not a WhatsApp Business Account webhook; kept as malformed");
      return;
    }
    add(result.status === "unroutable" ? "unroutable" : "processed", 1);
    if (!outcome) return;
    add("unroutableChanges", outcome.unroutableChanges);
    add("events", outcome.events);
    if (outcome.events > 0) this.#onEventsCommitted();
    if (outcome.unroutableChanges > 0) {
      this.#logger.warn(
        { inboxId: row.id, unroutableChanges: outcome.unroutableChanges },
        "webhook changes for numbers no account serves: kept in control.webhook_unroutable, not retried",
      );
    }
    if (outcome.skippedItems > 0) this.#logger.warn({ inboxId: row.id, skipped: outcome.skippedItems }, "webhook items could not be read");
    this.#logger.debug({ inboxId: row.id, attempts: row.attempts, ...outcome }, "webhook delivery processed");
  }

  async #failed(row: ClaimedRow, error: unknown): Promise<void> {
    this.#stats.failedAttempts += 1;
    inboxWorkerCounters.failedAttempts += 1;
    const retryInMs = Math.min(this.#retryDelayMs * 2 ** (row.attempts - 1), MAX_RETRY_DELAY_MS);
    try {
      const status = await recordInboxFailure(this.#db, row, {
        workerId: this.workerId,
        maxAttempts: this.#maxAttempts,
        retryInMs,
        error: describeError(error),
      });
      if (status === "failed") {
        this.#stats.failed += 1;
        inboxWorkerCounters.failed += 1;
        this.#logger.error({ err: error, inboxId: row.id, attempts: row.attempts }, "webhook delivery failed for good; marked failed");
      } else {
        this.#logger.warn({ err: error, inboxId: row.id, attempts: row.attempts, retryInMs }, "webhook delivery failed; will retry");
      }
    } catch (recordError) {
      // The lease runs out and the row is claimed again: nothing is lost.
      this.#logger.error({ err: recordError, cause: error, inboxId: row.id }, "could not record a failed webhook attempt");
    }
  }
}

function emptyStats(): InboxWorkerStats {
  return { processed: 0, unroutable: 0, unroutableChanges: 0, malformed: 0, failedAttempts: 0, failed: 0, events: 0 };
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`InboxWorker: ${name} must be positive`);
  return value;
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

/** The error and its causes as one line for the row's `error` column (no stack). */
function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    parts.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(": ").slice(0, MAX_ERROR_LENGTH);
}
