/**
 * Work to do once the current database transaction has committed — counting
 * what it recorded, for instance, so a rolled-back (and retried) transaction
 * is not counted twice.
 *
 * The postgres.js client is wrapped (postgres-tracing.ts) so each `begin`
 * runs its callback inside a scope; `afterCommit` queues into the innermost
 * transaction scope and the queue runs when `begin` resolves (COMMIT done),
 * or is dropped when it rejects (ROLLBACK). Outside a transaction — or on
 * PGlite, whose client is not wrapped — the work runs at once.
 */
import { AsyncLocalStorage } from "node:async_hooks";

interface Scope {
  readonly queued: (() => void)[];
}

const scopes = new AsyncLocalStorage<Scope>();

export function afterCommit(work: () => void): void {
  const scope = scopes.getStore();
  if (scope) scope.queued.push(work);
  else work();
}

/** Runs `transaction` (a `begin`) with a scope for `afterCommit`; runs the queued work once it resolved. */
export async function withCommitScope<T>(transaction: (run: <R>(fn: () => R) => R) => Promise<T>): Promise<T> {
  const scope: Scope = { queued: [] };
  const result = await transaction((fn) => scopes.run(scope, fn));
  for (const work of scope.queued) {
    try {
      work();
    } catch {
      // Counting must never turn a committed transaction into a failure.
    }
  }
  return result;
}
