/**
 * The inbox worker as a background worker of the service: built from the
 * application context when this replica runs the `inbox` worker.
 */
import type { AppContext } from "../../context.js";
import { InboxWorker, type InboxWorkerOptions } from "./inbox-worker.js";

export type InboxTuning = Partial<Omit<InboxWorkerOptions, "db" | "logger" | "wakeup" | "onEventsCommitted" | "newId" | "now" | "reactions">>;

export function startInboxWorker(app: AppContext, tuning: InboxTuning = {}): InboxWorker | undefined {
  if (!app.config.workers.has("inbox")) return undefined;
  const worker = new InboxWorker({
    db: app.database.db,
    logger: app.logger.child({ worker: "inbox" }),
    wakeup: app.inboxWakeup,
    onEventsCommitted: () => app.outboxWakeup.notify(),
    newId: app.newId,
    now: app.now,
    reactions: app.inboundReactions,
    // PGlite has one connection: concurrent transactions would only queue behind each other.
    ...(app.database.kind === "pglite" ? { concurrency: 1 } : {}),
    ...tuning,
  });
  worker.start();
  return worker;
}
