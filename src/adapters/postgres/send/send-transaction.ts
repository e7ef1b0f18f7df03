/**
 * The shape every transaction that may write outbox events or send jobs
 * shares: one withTenant transaction around a transaction object that counts
 * what it wrote, and — after the commit only — the wake-ups of the workers
 * that read those rows (a worker woken earlier would not see them).
 */
import type { Database, Transaction } from "../db/database.js";
import type { WrittenWork } from "../stores/outbound-transaction.js";
import { withTenant } from "../db/tenant-scope.js";

/** Who to wake after a commit that wrote events (the outbox relay) or queued send jobs (the sender). */
export interface CommitWakeups {
  onEventsCommitted?: () => void;
  onJobsCommitted?: () => void;
}

/**
 * Runs `work` on the transaction `open` builds inside the tenant's
 * transaction; after the commit, wakes the relay and the sender as the
 * transaction's `written` counts (read once `work` is done) call for.
 */
export async function inCountingTransaction<X extends { readonly written: WrittenWork }, T>(
  db: Database,
  tenantId: string,
  wakeups: CommitWakeups,
  open: (tx: Transaction) => X | Promise<X>,
  work: (transaction: X) => Promise<T>,
): Promise<T> {
  let written: WrittenWork = { events: 0, jobs: 0 };
  const result = await withTenant(db, tenantId, async (tx) => {
    const transaction = await open(tx);
    const value = await work(transaction);
    written = { ...transaction.written };
    return value;
  });
  // After the commit only: a worker woken earlier would not see the rows.
  if (written.events > 0) wakeups.onEventsCommitted?.();
  if (written.jobs > 0) wakeups.onJobsCommitted?.();
  return result;
}
