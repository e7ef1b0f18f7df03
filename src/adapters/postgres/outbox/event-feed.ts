/**
 * The live event feed behind ConversationService.WatchEvents: tails
 * `control.outbox` (every tenant's events, written in the transaction of
 * their state change) and hands each watcher its tenant's events in commit-
 * safe order, from a resume point, then live. Works with or without NATS.
 *
 * Order. `seq` is taken at INSERT, so a row with a lower seq can become
 * visible after one with a higher seq; a cursor on seq would skip it. Rows
 * are read in `(tx_id, seq)` order and only below the horizon
 * `pg_snapshot_xmin(pg_current_snapshot())`: every transaction below it has
 * ended, so no row can ever appear behind a cursor that stays under it. The
 * price: an event waits until the transactions that started before its own
 * have ended (usually milliseconds; a session left idle in a transaction that
 * wrote something holds every watcher back until it ends).
 *
 * One reader per process. A single loop serves every watcher: one query per
 * round for the live tail of all watched tenants (from a shared frontier),
 * plus one per watcher still catching up (replay, or a slow consumer). It
 * wakes on `wake()` (events committed by this process, see OutboxWakeup) and
 * polls every `pollIntervalMs` for other replicas' events; with no watcher it
 * does not run at all.
 *
 * Bounded memory. Each watcher has a queue of at most `queueCapacity` events.
 * A watcher whose queue is full stops advancing and falls behind the
 * frontier; it is caught up from the database (not from memory) once its
 * consumer has read half of its queue. A slow client costs queries, not RAM.
 *
 * Retention. Replay reads what the outbox still holds: published rows are
 * pruned by the relay after OUTBOX_RETENTION_SECONDS; without NATS nothing
 * is published, so nothing is pruned.
 */
import { sql } from "drizzle-orm";

import type { OutboxRecord } from "../../events/event-envelope.js";
import { queryRows, type Database } from "../db/database.js";
import { Wakeup } from "../../shared/wakeup.js";

/** A position in the outbox, in commit-safe order: rows strictly after it are delivered. */
export interface FeedCursor {
  tx: bigint;
  seq: number;
}

/**
 * Where a watch starts: after `cursor`, skipping the rows `visible` (a
 * snapshot) already showed — so "now" means exactly "committed after the
 * watch started", even for transactions above the horizon.
 */
export interface FeedStart {
  cursor: FeedCursor;
  visible?: XidSnapshot;
}

/** A PostgreSQL snapshot (`pg_snapshot`): which transactions had committed when it was taken. */
export interface XidSnapshot {
  xmin: bigint;
  xmax: bigint;
  running: ReadonlySet<bigint>;
}

/** Why a watch ended: its consumer closed it (or went away), or the feed shut down. */
export type WatchEnd = "closed" | "shutdown";

export interface FeedLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export interface EventFeedOptions<T> {
  db: Database;
  /** The item watchers receive for a row; undefined skips the row (e.g. an event type this build does not know). */
  decode(row: OutboxRecord): T | undefined;
  logger: FeedLogger;
  /** Look for other replicas' events this often when nothing woke the feed (default 250 ms). */
  pollIntervalMs?: number;
  /** Rows per query (default 500). */
  batchSize?: number;
  /** Events buffered per watcher before it is caught up from the database instead (default 1000). */
  queueCapacity?: number;
  /** Retry delays after a failed round (default 100 ms doubling to 5 s). */
  backoff?: { initialMs: number; maxMs: number };
}

export interface WatchOptions<T> {
  tenantId: string;
  from: FeedStart;
  /** Only these `event_type`s; empty or absent = all. */
  eventTypes?: readonly string[];
  /** Further filtering on the decoded item (account, conversation…). */
  accept?: (item: T) => boolean;
  /** Ends the watch when aborted (the client went away, a deadline passed). */
  signal?: AbortSignal;
}

/** One watcher's events, as an async iterable that ends when the watch does. */
export interface EventWatch<T> extends AsyncIterable<T> {
  /** Why it ended, once it has. */
  readonly ended: WatchEnd | undefined;
  close(): void;
}

const DEFAULTS = { pollIntervalMs: 250, batchSize: 500, queueCapacity: 1_000, backoff: { initialMs: 100, maxMs: 5_000 } };

export function compareCursors(a: FeedCursor, b: FeedCursor): number {
  if (a.tx !== b.tx) return a.tx < b.tx ? -1 : 1;
  return a.seq === b.seq ? 0 : a.seq < b.seq ? -1 : 1;
}

function maxCursor(a: FeedCursor, b: FeedCursor): FeedCursor {
  return compareCursors(a, b) >= 0 ? a : b;
}

/** `xmin:xmax:xip,…` (the text form of pg_snapshot). */
export function parseSnapshot(text: string): XidSnapshot {
  const [xmin, xmax, xip = ""] = text.split(":");
  if (xmin === undefined || xmax === undefined) throw new Error(`unreadable snapshot "${text}"`);
  return { xmin: BigInt(xmin), xmax: BigInt(xmax), running: new Set(xip === "" ? [] : xip.split(",").map((x) => BigInt(x))) };
}

function visibleIn(snapshot: XidSnapshot, tx: bigint): boolean {
  return tx < snapshot.xmin || (tx < snapshot.xmax && !snapshot.running.has(tx));
}

interface FeedRow extends OutboxRecord {
  cursor: FeedCursor;
}

interface RawRow extends Record<string, unknown> {
  id: string | null;
  tenant_id: string | null;
  event_type: string | null;
  payload: Uint8Array | string | null;
  created_at: Date | string | null;
  tx: string | null;
  seq: string | number | bigint | null;
}

const ROW_COLUMNS = sql.raw("o.id, o.tenant_id, o.event_type, o.payload, o.created_at, o.tx_id::text as tx, o.seq");

/**
 * The context's `outboxWakeup`: still the relay's level-triggered Wakeup,
 * and also a broadcast to listeners such as the event feed — which must not
 * wait on the same Wakeup, or the two would take each other's wake-ups.
 */
export class OutboxWakeup extends Wakeup {
  readonly #listeners = new Set<() => void>();

  /** Calls `listener` on every notify; returns the unsubscribe. */
  onNotify(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  override notify(): void {
    super.notify();
    for (const listener of this.#listeners) listener();
  }
}

export class EventFeed<T> {
  readonly #o: EventFeedOptions<T>;
  readonly #batchSize: number;
  readonly #capacity: number;
  readonly #subs = new Set<Subscription<T>>();
  readonly #wakeup = new Wakeup();
  readonly #stop = new AbortController();
  /** Every watcher at or past it has been given all its rows up to it. Undefined while the loop is idle. */
  #frontier: FeedCursor | undefined;
  #loop: Promise<void> | undefined;
  #completedRounds = 0;
  #startedRounds = 0;
  #roundWaiters: { round: number; resolve: () => void }[] = [];
  #failures = 0;

  constructor(options: EventFeedOptions<T>) {
    this.#o = options;
    this.#batchSize = options.batchSize ?? DEFAULTS.batchSize;
    this.#capacity = options.queueCapacity ?? DEFAULTS.queueCapacity;
  }

  /** Watches open right now. */
  get watching(): number {
    return this.#subs.size;
  }

  /** Look now rather than at the next poll (events were committed). */
  wake(): void {
    this.#wakeup.notify();
  }

  /** Where a watch from "now" starts: after everything committed at this instant. */
  async now(): Promise<FeedStart> {
    const [row] = await queryRows<{ snapshot: string }>(this.#o.db, sql`select pg_current_snapshot()::text as snapshot`);
    const visible = parseSnapshot(row!.snapshot);
    return { cursor: { tx: visible.xmin, seq: 0 }, visible };
  }

  /** Where a watch resuming after `eventId` starts; undefined when the tenant has no such event (any more). */
  async resumeAfter(tenantId: string, eventId: string): Promise<FeedStart | undefined> {
    const [row] = await queryRows<{ tx: string; seq: string | number }>(
      this.#o.db,
      sql`select tx_id::text as tx, seq from control.outbox where id = ${eventId}::uuid and tenant_id = ${tenantId}`,
    );
    return row === undefined ? undefined : { cursor: { tx: BigInt(row.tx), seq: Number(row.seq) } };
  }

  watch(options: WatchOptions<T>): EventWatch<T> {
    const sub = new Subscription<T>(options, this.#capacity, {
      wake: () => this.wake(),
      remove: (s) => this.#subs.delete(s),
    });
    if (this.#stop.signal.aborted) {
      sub.end("shutdown");
      return sub;
    }
    if (options.signal?.aborted) {
      sub.end("closed");
      return sub;
    }
    this.#subs.add(sub);
    options.signal?.addEventListener("abort", () => sub.close(), { once: true });
    this.#loop ??= this.#run();
    this.wake();
    return sub;
  }

  /** Resolves once a round that starts after this call has completed (at once when nobody watches). For tests. */
  nextRound(): Promise<void> {
    if (this.#loop === undefined) return Promise.resolve();
    const round = this.#startedRounds + 1;
    this.wake();
    return new Promise((resolve) => this.#roundWaiters.push({ round, resolve }));
  }

  /** Ends every watch ("shutdown": their consumers get what is queued, then the end) and stops the loop. */
  async close(): Promise<void> {
    this.#stop.abort();
    for (const sub of this.#subs) sub.end("shutdown");
    this.#subs.clear();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const stop = this.#stop.signal;
    const backoff = this.#o.backoff ?? DEFAULTS.backoff;
    try {
      while (!stop.aborted && this.#subs.size > 0) {
        let more: boolean;
        try {
          this.#startedRounds++;
          more = await this.#round();
          this.#completedRounds++;
          this.#releaseRoundWaiters();
          if (this.#failures > 0) this.#o.logger.info({ failures: this.#failures }, "event feed reads the outbox again");
          this.#failures = 0;
        } catch (error) {
          if (this.#failures++ === 0) this.#o.logger.warn({ err: error }, "event feed cannot read the outbox; retrying (watchers wait)");
          await this.#wakeup.wait(Math.min(backoff.maxMs, backoff.initialMs * 2 ** (this.#failures - 1)), stop);
          continue;
        }
        if (!more) await this.#wakeup.wait(this.#o.pollIntervalMs ?? DEFAULTS.pollIntervalMs, stop);
      }
    } catch (error) {
      this.#o.logger.error({ err: error }, "event feed stopped unexpectedly");
      for (const sub of this.#subs) sub.end("shutdown");
      this.#subs.clear();
    } finally {
      // Synchronous with the loop's last check of #subs: a watch added after it starts a new loop.
      this.#loop = undefined;
      this.#frontier = undefined;
      for (const waiter of this.#roundWaiters.splice(0)) waiter.resolve();
    }
  }

  #releaseRoundWaiters(): void {
    const done = this.#completedRounds;
    this.#roundWaiters = this.#roundWaiters.filter((w) => {
      if (w.round > done) return true;
      w.resolve();
      return false;
    });
  }

  /** One pass: catch up the watchers behind the frontier, then read the live tail. Returns true when more is waiting. */
  async #round(): Promise<boolean> {
    this.#frontier ??= (await this.now()).cursor;
    const frontier = this.#frontier;
    let more = false;

    for (const sub of [...this.#subs]) {
      if (sub.ended !== undefined || compareCursors(sub.cursor, frontier) >= 0) continue;
      const room = sub.room();
      if (room === 0) continue; // its consumer wakes us when it has read half its queue
      const limit = Math.min(this.#batchSize, room);
      const rows = await this.#between(sub, frontier, limit);
      for (const row of rows) sub.offer(row, this.#decode(row));
      if (rows.length === limit) more = true;
      else sub.advanceTo(frontier);
    }

    const attached = [...this.#subs].filter((s) => s.ended === undefined && compareCursors(s.cursor, frontier) >= 0);
    if (attached.length === 0) return more;
    const { rows, horizon } = await this.#tail([...new Set(attached.map((s) => s.tenantId))], frontier);
    const full = rows.length === this.#batchSize;
    const next = full ? rows[rows.length - 1]!.cursor : maxCursor(frontier, { tx: horizon, seq: 0 });
    const decoded = new Map<FeedRow, T | undefined>();
    const decodeOnce = (row: FeedRow) => {
      if (!decoded.has(row)) decoded.set(row, this.#decode(row));
      return decoded.get(row);
    };
    const byTenant = new Map<string, FeedRow[]>();
    for (const row of rows) {
      const list = byTenant.get(row.tenantId);
      if (list) list.push(row);
      else byTenant.set(row.tenantId, [row]);
    }
    for (const sub of attached) {
      let stalled = false;
      for (const row of byTenant.get(sub.tenantId) ?? []) {
        if (compareCursors(row.cursor, sub.cursor) <= 0) continue;
        if (!sub.offer(row, sub.wantsType(row.eventType) ? decodeOnce(row) : undefined)) {
          stalled = true;
          break;
        }
      }
      if (!stalled) sub.advanceTo(next);
    }
    this.#frontier = next;
    return more || full;
  }

  #decode(row: FeedRow): T | undefined {
    try {
      return this.#o.decode(row);
    } catch (error) {
      this.#o.logger.error({ err: error, eventId: row.id, eventType: row.eventType }, "event feed skipped an outbox row it cannot decode");
      return undefined;
    }
  }

  /** One watcher's rows in (its cursor, upTo], oldest first. Everything up to the frontier is committed. */
  async #between(sub: Subscription<T>, upTo: FeedCursor, limit: number): Promise<FeedRow[]> {
    const types = sub.eventTypes.length > 0 ? sql`and o.event_type in (${sql.join(sub.eventTypes.map((t) => sql`${t}`), sql`, `)})` : sql``;
    const rows = await queryRows<RawRow>(
      this.#o.db,
      sql`select ${ROW_COLUMNS}
            from control.outbox o
           where o.tenant_id = ${sub.tenantId}
             and (o.tx_id, o.seq) > (${sub.cursor.tx.toString()}::xid8, ${sub.cursor.seq}::bigint)
             and (o.tx_id, o.seq) <= (${upTo.tx.toString()}::xid8, ${upTo.seq}::bigint)
             ${types}
           order by o.tx_id, o.seq
           limit ${limit}`,
    );
    return rows.map(toFeedRow);
  }

  /**
   * The tenants' rows after the frontier and below the horizon, with the
   * horizon itself — read in one statement, so from one snapshot.
   */
  async #tail(tenants: readonly string[], after: FeedCursor): Promise<{ rows: FeedRow[]; horizon: bigint }> {
    const raw = await queryRows<RawRow & { horizon: string }>(
      this.#o.db,
      sql`with h as (select pg_snapshot_xmin(pg_current_snapshot()) as xmin)
          select h.xmin::text as horizon, ${ROW_COLUMNS}
            from h left join lateral (
              select * from control.outbox x
               where x.tenant_id in (${sql.join(tenants.map((t) => sql`${t}`), sql`, `)})
                 and (x.tx_id, x.seq) > (${after.tx.toString()}::xid8, ${after.seq}::bigint)
                 and x.tx_id < h.xmin
               order by x.tx_id, x.seq
               limit ${this.#batchSize}
            ) o on true
           order by o.tx_id, o.seq`,
    );
    const horizon = BigInt(raw[0]!.horizon);
    return { rows: raw.filter((r) => r.id !== null).map(toFeedRow), horizon };
  }
}

function toFeedRow(r: RawRow): FeedRow {
  return {
    id: r.id!,
    tenantId: r.tenant_id!,
    eventType: r.event_type!,
    payload: toBytes(r.payload!),
    createdAt: r.created_at instanceof Date ? r.created_at : new Date(r.created_at!),
    cursor: { tx: BigInt(r.tx!), seq: Number(r.seq) },
  };
}

/** postgres.js yields Buffers, PGlite Uint8Arrays; a driver without bytea parsing, `\x…` hex. */
function toBytes(value: Uint8Array | string): Uint8Array {
  if (typeof value !== "string") return value;
  return Buffer.from(value.startsWith("\\x") ? value.slice(2) : value, "hex");
}

/** One watcher: its position, its filters and its bounded queue. */
class Subscription<T> implements EventWatch<T> {
  readonly tenantId: string;
  readonly eventTypes: readonly string[];
  cursor: FeedCursor;
  readonly #visible: XidSnapshot | undefined;
  readonly #accept: (item: T) => boolean;
  readonly #capacity: number;
  readonly #feed: { wake(): void; remove(s: Subscription<T>): void };
  readonly #queue: T[] = [];
  #ended: WatchEnd | undefined;
  /** Set when the feed wanted to give more than the queue could take: the consumer wakes the feed when it has room. */
  #starved = false;
  #waiter: (() => void) | undefined;

  constructor(options: WatchOptions<T>, capacity: number, feed: { wake(): void; remove(s: Subscription<T>): void }) {
    this.tenantId = options.tenantId;
    this.eventTypes = [...(options.eventTypes ?? [])];
    this.cursor = options.from.cursor;
    this.#visible = options.from.visible;
    this.#accept = options.accept ?? (() => true);
    this.#capacity = capacity;
    this.#feed = feed;
  }

  get ended(): WatchEnd | undefined {
    return this.#ended;
  }

  wantsType(eventType: string): boolean {
    return this.eventTypes.length === 0 || this.eventTypes.includes(eventType);
  }

  room(): number {
    const room = this.#capacity - this.#queue.length;
    if (room <= 0) this.#starved = true;
    return Math.max(0, room);
  }

  /**
   * Takes the row (queued if wanted) and moves past it; false, without
   * moving, when it is wanted but the queue is full.
   */
  offer(row: FeedRow, item: T | undefined): boolean {
    if (this.#ended !== undefined) return false;
    const wanted =
      item !== undefined && this.wantsType(row.eventType) && !(this.#visible && visibleIn(this.#visible, row.cursor.tx)) && this.#accept(item);
    if (wanted) {
      if (this.#queue.length >= this.#capacity) {
        this.#starved = true;
        return false;
      }
      this.#queue.push(item);
      this.#waiter?.();
    }
    this.cursor = row.cursor;
    return true;
  }

  advanceTo(cursor: FeedCursor): void {
    this.cursor = maxCursor(this.cursor, cursor);
  }

  end(reason: WatchEnd): void {
    if (this.#ended !== undefined) return;
    this.#ended = reason;
    // A consumer that left wants nothing more; on shutdown it still gets what is queued.
    if (reason === "closed") this.#queue.length = 0;
    this.#feed.remove(this);
    this.#waiter?.();
  }

  close(): void {
    this.end("closed");
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.#next(),
      return: () => {
        this.close();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  async #next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.#queue.length > 0) {
        const value = this.#queue.shift()!;
        if (this.#starved && this.#queue.length <= this.#capacity / 2) {
          this.#starved = false;
          this.#feed.wake();
        }
        return { done: false, value };
      }
      if (this.#ended !== undefined) return { done: true, value: undefined };
      await new Promise<void>((resolve) => (this.#waiter = resolve));
      this.#waiter = undefined;
    }
  }
}
