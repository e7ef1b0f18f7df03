/**
 * One leader among replicas for work that must not run twice at once (the
 * outbox relay: one publisher keeps events in commit order).
 *
 * PostgreSQL: a session advisory lock held on a connection of its own (a
 * one-connection postgres.js client, never recycled). The lock lives exactly
 * as long as that session: if the process dies or the connection drops,
 * PostgreSQL releases it and a follower's next try wins. The holder learns of
 * a loss from the connection closing (`lost` aborts) or from `confirm()`,
 * which checks `pg_locks` for its own session — a silent reconnect by the
 * driver would come back as a new session without the lock, and `confirm()`
 * says so.
 *
 * PGlite: one process owns the data directory, so an in-process lock is the
 * same guarantee (see `inProcessLeaderLock`).
 */
import { LockClass } from "./lock-classes.js";
import postgres from "postgres";
import { withTimeout } from "../../shared/timeout.js";

export interface LeaderLease {
  /** Aborts when the lock is known to be lost (its connection closed, a failed confirm, or release). */
  readonly lost: AbortSignal;
  /** True while the lock is still held (one round trip on the lock's own connection); false aborts `lost`. */
  confirm(): Promise<boolean>;
  /** Gives the lock up (a follower may take it at once). Idempotent. */
  release(): Promise<void>;
}

export interface LeaderLock {
  /** The lease when this caller now leads; undefined when someone else does (try again later). */
  tryAcquire(): Promise<LeaderLease | undefined>;
  /** Releases any lease and closes the lock's connection. */
  close(): Promise<void>;
}

/** First key of the two-int advisory locks (registered in lock-classes.ts). */
export const LEADER_LOCK_CLASS = LockClass.leader;

/** Which work the lock elects a leader for (second key of the advisory lock). */
export const LeaderRole = {
  outboxRelay: 1,
} as const;
export type LeaderRole = (typeof LeaderRole)[keyof typeof LeaderRole];

export interface PostgresLeaderLockOptions {
  databaseUrl: string;
  role: LeaderRole;
  /** How long a confirm may take before the lease is treated as lost (default 2 s). */
  confirmTimeoutMs?: number;
}

const DEFAULT_CONFIRM_TIMEOUT_MS = 2_000;

export function postgresLeaderLock(options: PostgresLeaderLockOptions): LeaderLock {
  const { role } = options;
  const confirmTimeoutMs = options.confirmTimeoutMs ?? DEFAULT_CONFIRM_TIMEOUT_MS;
  let client: postgres.Sql | undefined;
  let lease: { controller: AbortController; pid: number } | undefined;

  /** One connection, not pooled, never recycled: the session is the lock. */
  const open = (): postgres.Sql =>
    postgres(options.databaseUrl, {
      max: 1,
      max_lifetime: null,
      idle_timeout: 0,
      connect_timeout: 10,
      onnotice: () => {},
      onclose: () => lease?.controller.abort(new Error("the leader lock's database connection closed")),
      connection: { application_name: "whatsapp-service leader-lock" },
    });

  /** Ends the session (releasing the lock on the server) and starts afresh next time. */
  const discard = async (): Promise<void> => {
    const ending = client;
    client = undefined;
    await ending?.end({ timeout: 0 }).catch(() => {});
  };

  const loseLease = async (reason: string): Promise<void> => {
    lease?.controller.abort(new Error(reason));
    lease = undefined;
    await discard();
  };

  return {
    async tryAcquire() {
      if (lease && !lease.controller.signal.aborted) throw new Error("this leader lock already holds a lease");
      client ??= open();
      const sql = client;
      let row: { locked: boolean; pid: number } | undefined;
      try {
        [row] = await sql<{ locked: boolean; pid: number }[]>`
          select pg_try_advisory_lock(${LEADER_LOCK_CLASS}::integer, ${role}::integer) as locked, pg_backend_pid() as pid`;
      } catch (error) {
        await discard();
        throw error;
      }
      if (!row?.locked) return undefined;
      const current = { controller: new AbortController(), pid: row.pid };
      lease = current;
      return {
        lost: current.controller.signal,
        async confirm() {
          if (current.controller.signal.aborted || lease !== current) return false;
          try {
            const [held] = await withTimeout(
              sql<{ held: boolean }[]>`
                select pg_backend_pid() = ${current.pid}::integer and exists (
                  select 1 from pg_locks
                   where locktype = 'advisory' and pid = pg_backend_pid() and granted
                     and classid = ${LEADER_LOCK_CLASS}::oid and objid = ${role}::oid and objsubid = 2
                ) as held`,
              confirmTimeoutMs,
            );
            if (held?.held) return true;
            await loseLease("the leader lock is no longer held by this session");
          } catch (error) {
            await loseLease(`could not confirm the leader lock: ${error instanceof Error ? error.message : String(error)}`);
          }
          return false;
        },
        async release() {
          if (lease !== current) return;
          lease = undefined;
          current.controller.abort(new Error("released"));
          try {
            await withTimeout(sql`select pg_advisory_unlock(${LEADER_LOCK_CLASS}::integer, ${role}::integer)`, confirmTimeoutMs);
          } catch {
            // Could not say so politely: end the session, which releases the lock too.
            await discard();
          }
        },
      };
    },
    async close() {
      lease?.controller.abort(new Error("closed"));
      lease = undefined;
      const ending = client;
      client = undefined;
      await ending?.end({ timeout: 5 });
    },
  };
}

/**
 * For the embedded database: PGlite runs inside this one process (its data
 * directory cannot be opened by a second one), so leadership only has to be
 * exclusive within the process. Locks with the same role share one holder.
 */
export function inProcessLeaderLock(role: LeaderRole): LeaderLock {
  let lease: AbortController | undefined;
  const release = () => {
    if (lease === undefined) return;
    lease.abort(new Error("released"));
    if (inProcessHolders.get(role) === lease) inProcessHolders.delete(role);
    lease = undefined;
  };
  return {
    tryAcquire() {
      if (inProcessHolders.has(role)) return Promise.resolve(undefined);
      const controller = new AbortController();
      inProcessHolders.set(role, controller);
      lease = controller;
      return Promise.resolve({
        lost: controller.signal,
        confirm: () => Promise.resolve(!controller.signal.aborted),
        release: () => {
          if (lease === controller) release();
          return Promise.resolve();
        },
      });
    },
    close() {
      release();
      return Promise.resolve();
    },
  };
}

const inProcessHolders = new Map<LeaderRole, AbortController>();

