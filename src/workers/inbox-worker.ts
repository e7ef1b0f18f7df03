/**
 * Processes webhook deliveries after they were answered: claims rows of the
 * inbox (the inbox queue port; adapters/postgres inbox-queue.ts has the claim
 * and lease protocol), reads each with its provider's parser, splits them into up to `concurrency` batches (inbox-batches.ts:
 * deliveries of one sender or one wamid stay together, in arrival order) and
 * applies each batch in ONE transaction that also writes the events to the
 * outbox and marks the rows done. Several deliveries per transaction is what
 * keeps up with 1,000 deliveries/s: the begin/commit, the row locks, the
 * routing look-ups, the outbox INSERT and the marking are shared.
 *
 * On PostgreSQL each statement costs the process a round trip (~100 µs of
 * CPU on loopback), so transactions are filled before more are opened, and
 * under load the worker lets deliveries gather (`gatherMs`) before its next
 * claim; the hot statements are named prepared statements (adapters/postgres
 * prepared-query.ts). What a delivery means is the inbound use case's
 * (app/process-webhook-delivery.ts), run inside the batch's transaction.
 *
 * When a batch fails, its deliveries are tried again one per transaction, so
 * a poison delivery is retried (and in the end marked failed) alone while
 * the others commit. Safe with any number of replicas; rows left by a crash
 * are claimed again once their lease runs out (rows never claimed, at once).
 */
import { randomBytes } from "node:crypto";

import { processWebhookDeliveries, type DeliveryOutcome } from "../app/process-webhook-delivery.js";
import type { InboundDeps } from "../app/receive-inbound-message.js";
import type { InboundReactions } from "../app/inbound-reactions.js";
import type { InboxTuning } from "../config.js";
import type { BatchRowResult, ClaimedDelivery, InboxQueue, PlannedDelivery } from "../ports/inbox-queue.js";
import type { Log } from "../ports/log.js";
import { MalformedWebhookError, parseMetaWebhookBody } from "../adapters/providers/meta/webhook-payload.js";
import { parseSandboxDelivery, SANDBOX_INBOX_PROVIDER } from "../adapters/providers/sandbox/sandbox-provider.js";
import { isDatabaseUnavailable } from "../adapters/shared/database-unavailable.js";
import { conflictKeys, planBatches } from "./inbox-batches.js";
import type { WakeSignal } from "./sender.js";

export interface InboxWorkerDeps {
  queue: InboxQueue;
  logger: Log;
  /** Notified when a delivery is committed to the inbox: look now instead of at the next poll. */
  wakeup?: WakeSignal;
  /** Called after a commit that wrote events (the relay's wake-up). */
  onEventsCommitted?: () => void;
  newId: () => string;
  now: () => Date;
  /** What follows newly stored inbound messages and updates, in their transaction (app/inbound-reactions.ts). */
  reactions?: InboundReactions;
}

/**
 * Tuning (config.ts InboxTuning): concurrency — transactions at once (each
 * holds one pool connection), default 4; batchSize — deliveries per
 * transaction at most (one claim takes up to concurrency × batchSize rows, a
 * transaction is filled before another is opened), default 64; gatherMs —
 * under load, how long to let deliveries gather after a claim that was not
 * full, so a transaction carries many deliveries instead of one or two (never
 * after an idle look: the first delivery after a quiet spell is taken at
 * once), default 10 ms; pollIntervalMs — longest sleep without a wake-up,
 * default 1000 ms; leaseMs — how long a claim protects a row, default 60 s;
 * maxAttempts — attempts before a row is marked `failed`, default 5;
 * retryDelayMs — first retry delay, doubling per attempt up to 5 minutes,
 * default 1000 ms.
 */
export type InboxWorkerOptions = InboxWorkerDeps & InboxTuning;

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

/** Totals of every inbox worker of the process, for operators and tests (no /metrics route serves them yet). */
export const inboxWorkerCounters: InboxWorkerStats = emptyStats();

/** Providers whose deliveries this worker can read. */
const PROVIDERS = ["meta", SANDBOX_INBOX_PROVIDER] as const;
const MAX_RETRY_DELAY_MS = 5 * 60_000;
const MAX_ERROR_LENGTH = 2_000;

type RowResult = BatchRowResult<DeliveryOutcome>;

export class InboxWorker {
  readonly workerId: string;
  readonly #queue: InboxQueue;
  readonly #logger: Log;
  readonly #wakeup: WakeSignal | undefined;
  readonly #onEventsCommitted: () => void;
  readonly #deps: InboundDeps;
  readonly #concurrency: number;
  readonly #batchSize: number;
  readonly #pollIntervalMs: number;
  readonly #gatherMs: number;
  readonly #leaseMs: number;
  readonly #maxAttempts: number;
  readonly #retryDelayMs: number;
  readonly #stats = emptyStats();
  #abort: AbortController | undefined;
  #running: Promise<void> | undefined;

  constructor(options: InboxWorkerOptions) {
    this.#queue = options.queue;
    this.#logger = options.logger;
    this.#wakeup = options.wakeup;
    this.#onEventsCommitted = options.onEventsCommitted ?? (() => {});
    this.#deps = { newId: options.newId, now: options.now, reactions: options.reactions };
    this.workerId = options.workerId ?? `inbox-${randomBytes(6).toString("hex")}`;
    this.#concurrency = positive(options.concurrency ?? 4, "concurrency");
    this.#batchSize = positive(options.batchSize ?? 64, "batchSize");
    this.#pollIntervalMs = positive(options.pollIntervalMs ?? 1_000, "pollIntervalMs");
    this.#gatherMs = options.gatherMs ?? 10;
    if (!Number.isFinite(this.#gatherMs) || this.#gatherMs < 0) throw new Error("InboxWorker: gatherMs must be zero or more");
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
    this.#logger.info({ workerId: this.workerId, concurrency: this.#concurrency, batchSize: this.#batchSize }, "inbox worker started");
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

  /** Claims up to concurrency × batchSize rows and processes them; the number claimed (0 when idle). */
  async runOnce(): Promise<number> {
    const rows = await this.#queue.claim({
      workerId: this.workerId,
      limit: this.#concurrency * this.#batchSize,
      leaseMs: this.#leaseMs,
      providers: PROVIDERS,
    });
    const planned = rows.map(plan);
    // Transactions are filled before more are opened: each costs the same
    // round trips (begin, lock, look-ups, commit) however many deliveries it carries.
    const lanes = Math.min(this.#concurrency, Math.ceil(rows.length / this.#batchSize));
    const batches = planBatches(planned, (p) => (p.kind === "delivery" ? conflictKeys(p.delivery) : []), lanes);
    await Promise.all(batches.map((batch) => this.#process(batch)));
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
      if (signal.aborted) break;
      if (claimed === 0) await this.#idle(signal);
      else if (claimed < this.#concurrency * this.#batchSize && this.#gatherMs > 0) await this.#sleep(this.#gatherMs, signal);
    }
  }

  #idle(signal: AbortSignal): Promise<void> {
    if (this.#wakeup) return this.#wakeup.wait(this.#pollIntervalMs, signal);
    return this.#sleep(this.#pollIntervalMs, signal);
  }

  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
    });
  }

  async #process(batch: PlannedDelivery[]): Promise<void> {
    // A lost connection is the database's trouble, not the delivery's: the same claim is tried again once the pool
    // has reconnected (no attempt counted, no retry delay recorded), for half the lease; after that the lease
    // lapses and whoever claims next tries. Recording it as a failed attempt would need the database too.
    const retryUntil = Date.now() + this.#leaseMs / 2;
    let unavailableRetries = 0;
    for (;;) {
      try {
        // All the batch's deliveries at once: runs of plain inbound messages are stored set-wise.
        const results = await this.#queue.applyBatch(this.workerId, batch, async (items) =>
          (await processWebhookDeliveries(items, this.#deps)).map((outcome) => ({
            status: outcome.unroutableChanges > 0 && outcome.routedChanges === 0 ? ("unroutable" as const) : ("processed" as const),
            outcome,
          })),
        );
        results.forEach((result, i) => this.#committed(batch[i]!.row, result));
        if (results.some((r) => r.status !== "not_ours" && (r.outcome?.events ?? 0) > 0)) this.#onEventsCommitted();
        return;
      } catch (error) {
        if (isDatabaseUnavailable(error)) {
          const signal = this.#abort?.signal;
          if (signal?.aborted || Date.now() >= retryUntil) return;
          unavailableRetries++;
          this.#logger.warn({ err: error, size: batch.length, retry: unavailableRetries }, "database connection lost while applying deliveries; retrying");
          await this.#sleep(Math.min(2_000, 100 * 2 ** Math.min(unavailableRetries, 5)) * (0.5 + Math.random() / 2), signal ?? new AbortController().signal);
          continue;
        }
        if (batch.length > 1) {
          // Someone in the batch failed: each alone, so the others commit and only the culprit is retried.
          this.#logger.debug({ err: error, size: batch.length }, "inbox batch failed; applying its deliveries one by one");
          for (const one of batch) await this.#process([one]);
          return;
        }
        await this.#failed(batch[0]!.row, error);
        return;
      }
    }
  }

  #committed(row: ClaimedDelivery, result: RowResult): void {
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
    if (outcome.unroutableChanges > 0) {
      this.#logger.warn(
        { inboxId: row.id, unroutableChanges: outcome.unroutableChanges },
        "webhook changes for numbers no account serves: kept in control.webhook_unroutable, not retried",
      );
    }
    if (outcome.skippedItems > 0) this.#logger.warn({ inboxId: row.id, skipped: outcome.skippedItems }, "webhook items could not be read");
    this.#logger.debug({ inboxId: row.id, attempts: row.attempts, ...outcome }, "webhook delivery processed");
  }

  async #failed(row: ClaimedDelivery, error: unknown): Promise<void> {
    this.#stats.failedAttempts += 1;
    inboxWorkerCounters.failedAttempts += 1;
    const retryInMs = Math.min(this.#retryDelayMs * 2 ** (row.attempts - 1), MAX_RETRY_DELAY_MS);
    try {
      const status = await this.#queue.recordFailure(row, {
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

/** Reads the delivery before any transaction: a body that is not a WhatsApp webhook is marked malformed, never retried. */
function plan(row: ClaimedDelivery): PlannedDelivery {
  try {
    // The SANDBOX provider writes Meta-shaped status deliveries for its own accounts (sandbox-provider.ts).
    const delivery =
      row.provider === SANDBOX_INBOX_PROVIDER ? parseSandboxDelivery(row.body, row.receivedAt) : parseMetaWebhookBody(row.body, { receivedAt: row.receivedAt });
    return { row, kind: "delivery", delivery };
  } catch (error) {
    if (error instanceof MalformedWebhookError) return { row, kind: "malformed", reason: error.message };
    throw error;
  }
}

function emptyStats(): InboxWorkerStats {
  return { processed: 0, unroutable: 0, unroutableChanges: 0, malformed: 0, failedAttempts: 0, failed: 0, events: 0 };
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`InboxWorker: ${name} must be positive`);
  return value;
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
