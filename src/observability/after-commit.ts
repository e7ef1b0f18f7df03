/**
 * Counting what a database transaction recorded once it has committed, so a
 * rolled-back (and retried) transaction is not counted twice.
 *
 * The database client is wrapped (postgres-tracing.ts) so each transaction
 * runs its callback inside a scope that knows the service's metrics;
 * `countAfterCommit` queues into the current transaction's scope and the
 * queue runs when the transaction resolved (COMMIT done), or is dropped when
 * it rejects (ROLLBACK). Outside a transaction of a wrapped client nothing is
 * counted: every counted write is transactional.
 */
import { AsyncLocalStorage } from "node:async_hooks";

import type { ServiceMetrics } from "./metrics.js";

type Count = (metrics: ServiceMetrics) => void;

interface Scope {
  readonly metrics: ServiceMetrics;
  readonly queued: Count[];
}

const scopes = new AsyncLocalStorage<Scope>();

export function countAfterCommit(count: Count): void {
  scopes.getStore()?.queued.push(count);
}

/**
 * Runs `transaction` (a `begin`) with a scope for `countAfterCommit`; the
 * queued counts run once it resolved. A nested transaction (savepoint) uses
 * the outer scope, so its counts wait for the outer commit.
 */
export async function withCommitScope<T>(metrics: ServiceMetrics | undefined, transaction: (run: <R>(fn: () => R) => R) => Promise<T>): Promise<T> {
  if (!metrics || scopes.getStore()) return transaction((fn) => fn());
  const scope: Scope = { metrics, queued: [] };
  const result = await transaction((fn) => scopes.run(scope, fn));
  for (const count of scope.queued) {
    try {
      count(metrics);
    } catch {
      // Counting must never turn a committed transaction into a failure.
    }
  }
  return result;
}
