/**
 * The outbox relay (SPEC §5, §7): publishes `control.outbox` rows to
 * JetStream in `seq` order and marks them published.
 *
 * - Exactly once on the stream: each row is published with `Nats-Msg-Id` =
 *   its event id and marked only after its PubAck. A crash between the two
 *   republishes the same id, which JetStream drops (duplicate window).
 * - No high-water mark: every round re-selects `published_at is null order
 *   by seq`, because a transaction holding a lower seq can commit after one
 *   holding a higher seq; a mark would skip it for ever.
 * - One publisher across replicas (a PostgreSQL advisory lock, see
 *   postgres/db/leader-lock.ts) so events leave in commit order; followers retry
 *   the lock, a leader that loses it stops before its next batch.
 * - Fast: wakes on `outboxWakeup` (events committed by this process), polls
 *   every `pollIntervalMs` for other replicas' events, pipelines a batch of
 *   publishes (acks awaited in order) and marks the batch in one UPDATE.
 * - NATS down or publishes failing: nothing is marked, retries back off
 *   exponentially with jitter, one log line per outage (and one when it ends).
 */
import { sql } from "drizzle-orm";
import { jetstream, type JetStreamClient, type PubAck } from "@nats-io/jetstream";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";

import type { Database } from "../postgres/db/database.js";
import { hot, preparedRows } from "../postgres/db/prepared-query.js";
import type { LeaderLease, LeaderLock } from "../postgres/db/leader-lock.js";
import { outbox } from "../postgres/schema/control.js";
import type { Wakeup } from "../shared/wakeup.js";
import { Backoff, sleep } from "./backoff.js";
import type { NatsLink } from "./connection.js";
import { ensureStream, StreamConfigError, type StreamSettings } from "./stream.js";

/** The subset of a pino logger the relay uses. */
export interface RelayLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export interface OutboxRelayOptions {
  db: Database;
  nats: NatsLink;
  stream: StreamSettings;
  leaderLock: LeaderLock;
  /** Notified after events are committed (AppContext.outboxWakeup). */
  wakeup: Wakeup;
  logger: RelayLogger;
  /** Rows per round: all of them are in flight at once (default 500). */
  batchSize?: number;
  /** Look for other replicas' events this often when nothing woke us (default 500 ms). */
  pollIntervalMs?: number;
  /** How often a follower tries to become leader (default 1 s). */
  followerRetryMs?: number;
  /** How often the leader re-checks it still holds the lock, at most (default 1 s). */
  leaseCheckMs?: number;
  /** PubAck wait per event (default 5 s). */
  publishTimeoutMs?: number;
  /** Retry delays after failures (default 100 ms doubling to 3 s, with jitter). */
  backoff?: { initialMs: number; maxMs: number };
  /** Delete published rows older than this, in small batches; `false` keeps them (default 24 h). */
  retention?: OutboxRetention | false;
}

export interface OutboxRetention {
  keepPublishedMs: number;
  /** Rows per DELETE (default 1000): short statements, no long locks. */
  batchSize?: number;
  /** How often the leader prunes (default 60 s). */
  everyMs?: number;
}

export interface OutboxRelay {
  /** Starts the loop in the background. */
  start(): void;
  /** Stops taking new rounds, waits for the one in flight (bounded by the publish timeout), releases leadership. */
  stop(): Promise<void>;
  /** True while this relay holds the leader lock. */
  readonly leading: boolean;
  /** Failed rounds since the last successful one (0 when healthy). */
  readonly failures: number;
}

const DEFAULTS = {
  batchSize: 500,
  pollIntervalMs: 500,
  followerRetryMs: 1_000,
  leaseCheckMs: 1_000,
  publishTimeoutMs: 5_000,
  backoff: { initialMs: 100, maxMs: 3_000 },
  retention: { keepPublishedMs: 24 * 3600 * 1000, batchSize: 1_000, everyMs: 60_000 },
};
/** Full batches one round publishes before it yields (lease check, pruning). */
const MAX_BATCHES_PER_ROUND = 10;
/** Upper bound on DELETE statements per prune round, so pruning never starves publishing. */
const MAX_PRUNE_BATCHES_PER_ROUND = 20;

interface OutboxRow {
  id: string;
  seq: number;
  subject: string;
  payload: Buffer;
  headers: Record<string, string>;
}

export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  return new JetStreamOutboxRelay(options);
}

class JetStreamOutboxRelay implements OutboxRelay {
  readonly #o: OutboxRelayOptions;
  readonly #batchSize: number;
  readonly #pollIntervalMs: number;
  readonly #publishTimeoutMs: number;
  readonly #retention: Required<OutboxRetention> | undefined;
  readonly #backoff: Backoff;
  readonly #stopping = new AbortController();
  #running: Promise<void> | undefined;
  #leading = false;
  /** Set when a round failed; cleared (with a log line) by the next success. */
  #outage: { since: number; failures: number; cause: string } | undefined;
  /** The JetStream client for the connection object it was made from, with whether the stream was checked on it. */
  #js: { nc: NatsConnection; client: JetStreamClient; streamReady: boolean } | undefined;
  #lastPruneAt = 0;

  constructor(options: OutboxRelayOptions) {
    this.#o = options;
    this.#batchSize = options.batchSize ?? DEFAULTS.batchSize;
    this.#pollIntervalMs = options.pollIntervalMs ?? DEFAULTS.pollIntervalMs;
    this.#publishTimeoutMs = options.publishTimeoutMs ?? DEFAULTS.publishTimeoutMs;
    this.#retention = options.retention === false ? undefined : { ...DEFAULTS.retention, ...options.retention };
    this.#backoff = new Backoff(options.backoff ?? DEFAULTS.backoff);
  }

  get leading(): boolean {
    return this.#leading;
  }

  get failures(): number {
    return this.#outage?.failures ?? 0;
  }

  start(): void {
    this.#running ??= this.#run().catch((error: unknown) => {
      this.#o.logger.error({ err: error }, "outbox relay stopped unexpectedly");
    });
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#running;
  }

  /** Follower ⇄ leader until stopped. */
  async #run(): Promise<void> {
    const { logger, leaderLock } = this.#o;
    const stop = this.#stopping.signal;
    let electionFailures = 0;
    while (!stop.aborted) {
      let lease: LeaderLease | undefined;
      try {
        lease = await leaderLock.tryAcquire();
        electionFailures = 0;
      } catch (error) {
        if (electionFailures++ === 0) logger.warn({ err: error }, "outbox relay cannot reach the database to take the leader lock; retrying");
      }
      if (!lease) {
        await sleep(this.#o.followerRetryMs ?? DEFAULTS.followerRetryMs, stop);
        continue;
      }
      this.#leading = true;
      logger.info({}, "outbox relay is the leader: publishing events");
      try {
        await this.#lead(lease);
      } finally {
        this.#leading = false;
        await lease.release().catch(() => {});
      }
      if (stop.aborted) break;
      logger.warn({ reason: String(lease.lost.reason) }, "outbox relay lost the leader lock; following");
      // Stand down before competing again: a replica that just lost its
      // database session is the likeliest to lose the next one too.
      await sleep(2 * (this.#o.followerRetryMs ?? DEFAULTS.followerRetryMs), stop);
    }
  }

  /** Publishes rounds for as long as the lease holds. */
  async #lead(lease: LeaderLease): Promise<void> {
    const stop = this.#stopping.signal;
    const signal = AbortSignal.any([stop, lease.lost]);
    const leaseCheckMs = this.#o.leaseCheckMs ?? DEFAULTS.leaseCheckMs;
    let confirmedAt = Date.now();
    while (!signal.aborted) {
      const nc = await this.#o.nats.whenConnected(signal);
      if (!nc) {
        if (!signal.aborted) await sleep(this.#backoff.next(), signal);
        continue;
      }
      if (Date.now() - confirmedAt >= leaseCheckMs) {
        if (!(await lease.confirm())) return;
        confirmedAt = Date.now();
      }
      let published: number;
      try {
        published = await this.#round(nc, signal);
        this.#recovered();
      } catch (error) {
        this.#failed(error);
        await sleep(this.#backoff.next(), signal);
        continue;
      }
      // Stopped at its cap with more waiting: go again at once.
      if (published >= this.#batchSize * MAX_BATCHES_PER_ROUND) continue;
      await this.#prune();
      await this.#o.wakeup.wait(this.#pollIntervalMs, signal);
    }
  }

  /**
   * Batches until the outbox is empty: select, publish (pipelined), then mark
   * the batch published AND select the next one in a single statement, so a
   * busy outbox costs one round trip to PostgreSQL per batch. Returns rows
   * published; throws after marking what was acked.
   */
  async #round(nc: NatsConnection, signal: AbortSignal): Promise<number> {
    const js = await this.#jetstream(nc);
    let rows = await this.#unpublished([]);
    let published = 0;
    while (rows.length > 0) {
      const { acked, error } = await this.#publish(js, rows);
      published += acked;
      if (error !== undefined) {
        if (acked > 0) await this.#markPublished(rows.slice(0, acked));
        // The stream may be gone (NATS restarted without its store) or changed: check it before the next try.
        if (this.#js) this.#js.streamReady = false;
        throw error;
      }
      this.#o.logger.debug({ events: acked, lastSeq: rows[rows.length - 1]?.seq }, "published outbox events");
      // Stopping or no longer leading: mark what was published, take no more.
      if (signal.aborted || published >= this.#batchSize * MAX_BATCHES_PER_ROUND) {
        await this.#markPublished(rows);
        break;
      }
      rows = await this.#unpublished(rows.map((r) => r.id));
    }
    return published;
  }

  async #jetstream(nc: NatsConnection): Promise<JetStreamClient> {
    if (this.#js?.nc !== nc) this.#js = { nc, client: jetstream(nc, { timeout: this.#publishTimeoutMs }), streamReady: false };
    if (!this.#js.streamReady) {
      await ensureStream(nc, this.#o.stream, this.#o.logger);
      this.#js.streamReady = true;
    }
    return this.#js.client;
  }

  /**
   * The next unpublished rows in seq order, after marking `published` (ids
   * just acked) in the same statement. The select runs on the statement's
   * snapshot, where those rows are not marked yet: it leaves them out itself.
   * One statement text whatever the count (array parameter), so it is
   * prepared once and costs one round trip.
   */
  async #unpublished(published: readonly string[]): Promise<OutboxRow[]> {
    const rows = await preparedRows<{ id: string; seq: number | string; subject: string; payload: Buffer | Uint8Array; headers: Record<string, string> | string }>(
      this.#o.db,
      hot`with marked as (
            update ${outbox} set published_at = now() where id = any(${[...published]}::uuid[]) returning id)
          select id, seq, subject, payload, headers from ${outbox}
           where published_at is null and not (id = any(${[...published]}::uuid[]))
           order by seq
           limit ${this.#batchSize}`,
    );
    return rows.map((r) => ({
      id: r.id,
      seq: Number(r.seq),
      subject: r.subject,
      payload: Buffer.isBuffer(r.payload) ? r.payload : Buffer.from(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength),
      headers: typeof r.headers === "string" ? (JSON.parse(r.headers) as Record<string, string>) : r.headers,
    }));
  }

  /**
   * Sends every row at once, then reads the acks in order. Only the prefix
   * acked before the first failure counts: rows after a failure are
   * republished next round (JetStream drops any that had landed), so the
   * stream never holds an event whose predecessor is missing.
   */
  async #publish(js: JetStreamClient, rows: readonly OutboxRow[]): Promise<{ acked: number; error?: unknown }> {
    const session = this.#o.nats.session;
    const expect = { streamName: this.#o.stream.name };
    const pending: Promise<PubAck>[] = rows.map((row) => {
      const h = natsHeaders();
      for (const [key, value] of Object.entries(row.headers)) h.set(key, value);
      return js.publish(row.subject, row.payload, { msgID: row.id, headers: h, expect, timeout: this.#publishTimeoutMs });
    });
    // Later publishes may fail while we wait on an earlier one; don't let those rejections go unhandled.
    for (const p of pending) p.catch(() => {});
    for (let i = 0; i < pending.length; i++) {
      try {
        // A request in flight when the connection drops is never answered: stop waiting then, not at the timeout.
        await abortable(pending[i]!, session);
      } catch (error) {
        return { acked: i, error };
      }
    }
    return { acked: rows.length };
  }

  async #markPublished(rows: readonly OutboxRow[]): Promise<void> {
    // By id, never by seq range: a lower seq outside this batch may still be unpublished.
    await preparedRows(this.#o.db, hot`update ${outbox} set published_at = now() where id = any(${rows.map((r) => r.id)}::uuid[])`);
  }

  /**
   * Deletes published rows older than the retention among the oldest rows by
   * seq (a bounded index scan: old rows are at the low end of seq), a batch
   * at a time.
   */
  async #prune(): Promise<void> {
    const retention = this.#retention;
    if (!retention || Date.now() - this.#lastPruneAt < retention.everyMs) return;
    this.#lastPruneAt = Date.now();
    let deleted = 0;
    try {
      for (let i = 0; i < MAX_PRUNE_BATCHES_PER_ROUND && !this.#stopping.signal.aborted; i++) {
        const removed = await this.#o.db.delete(outbox).where(
          sql`${outbox.id} in (
            select id from (select id, published_at from ${outbox} order by seq limit ${retention.batchSize}) oldest
             where published_at is not null and published_at < now() - ${retention.keepPublishedMs}::float8 * interval '1 millisecond')`,
        ).returning({ id: outbox.id });
        deleted += removed.length;
        if (removed.length < retention.batchSize) break;
      }
    } catch (error) {
      this.#o.logger.warn({ err: error }, "pruning published outbox rows failed; will try again later");
    }
    if (deleted > 0) this.#o.logger.info({ deleted, keptMs: retention.keepPublishedMs }, "pruned published outbox rows");
  }

  /** Logs the first failure of an outage, and again only if its kind changes (a stream needing an operator vs. transient). */
  #failed(error: unknown): void {
    // Transient failures (timeouts, disconnects, no responders) are one cause; a stream that needs an operator is another.
    const cause = error instanceof StreamConfigError ? "stream" : "transient";
    if (this.#outage) {
      this.#outage.failures++;
      if (this.#outage.cause === cause) return;
      this.#outage.cause = cause;
    } else {
      this.#outage = { since: Date.now(), failures: 1, cause };
    }
    if (error instanceof StreamConfigError) {
      this.#o.logger.error({ err: error }, `cannot publish events: ${error.message}`);
    } else {
      this.#o.logger.warn({ err: error }, "publishing outbox events failed; retrying with backoff (events wait in the outbox)");
    }
  }

  #recovered(): void {
    this.#backoff.reset();
    if (!this.#outage) return;
    const { since, failures } = this.#outage;
    this.#outage = undefined;
    this.#o.logger.info({ outageMs: Date.now() - since, failures }, "publishing outbox events resumed");
  }
}

/** The promise's outcome, or a rejection with the signal's reason as soon as it aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
