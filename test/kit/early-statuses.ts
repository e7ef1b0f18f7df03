/**
 * Applies the statuses kept for a wamid inside a tenant transaction, as the
 * sender's result recording does (the status use case over the
 * transaction's inbound store) — for tests that store a wamid by hand.
 */
import { v7 as uuidv7 } from "uuid";

import type { Database } from "../../src/adapters/postgres/db/database.js";
import { earlyStatusScope } from "../../src/adapters/postgres/send/send-results.js";
import { earlyStatusApplier } from "../../src/app/messaging/deliver-send.js";

export function applyPendingStatuses(tx: Database, wamid: string, deps: { newId?: () => string; now?: () => Date } = {}): Promise<number> {
  const resolved = { newId: deps.newId ?? (() => uuidv7()), now: deps.now ?? (() => new Date()) };
  return earlyStatusApplier(resolved)(earlyStatusScope(tx, resolved), wamid);
}
