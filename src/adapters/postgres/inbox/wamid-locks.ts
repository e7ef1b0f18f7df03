/**
 * Status work on one wamid is serialised by one advisory transaction lock,
 * taken by the webhook processing (inbound-store.ts lockWamid), the inbox
 * worker's batches (all at once, in order) and the sender's recording of
 * early statuses.
 */
import { LockClass } from "../db/lock-classes.js";
import type { Database } from "../db/database.js";
import { hot, preparedRows } from "../db/prepared-query.js";

/** Advisory lock class for status work on one wamid (registered in db/lock-classes.ts). */
export const WAMID_LOCK_CLASS = LockClass.wamid;

/**
 * Takes the status lock (see `lockWamid`) of every wamid at once, in one
 * global order (by lock key). The inbox worker calls it first in a batch
 * transaction that will apply statuses: per-status locking would take them
 * in delivery order, and two replicas' batches holding the same wamids in
 * opposite orders deadlock each other (or a third transaction queued behind
 * them, such as the sending work's). Locks already held are taken again at
 * no cost (advisory transaction locks are reentrant).
 */
export async function lockWamidsInOrder(tx: Database, wamids: readonly string[]): Promise<void> {
  if (wamids.length === 0) return;
  await preparedRows(tx, hot`with keys as materialized (
      select distinct hashtext(w) as k from unnest(${[...new Set(wamids)]}::text[]) as w order by k
    )
    select count(pg_advisory_xact_lock(${WAMID_LOCK_CLASS}::integer, k)) from keys`);
}
