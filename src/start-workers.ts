/**
 * The background workers of a replica (WORKERS), each built from the few
 * parts of the context it uses — ports and tuning, never the context itself —
 * and stopped in the order that loses nothing (server.ts).
 */
import type { InboxTuning, SenderTuning } from "./config.js";
import type { AppContext } from "./context.js";
import { PostgresSendQueue } from "./adapters/postgres/send-queue.js";
import { PostgresSendResults } from "./adapters/postgres/send-results.js";
import { SealedSendCredentials } from "./adapters/postgres/send-credentials.js";
import { PostgresInboxQueue } from "./adapters/postgres/inbox-queue.js";
import { InboxWorker } from "./workers/inbox-worker.js";
import { SenderWorker } from "./workers/sender.js";

export function startSenderWorker(app: AppContext, tuning: SenderTuning = {}): SenderWorker | undefined {
  if (!app.config.workers.has("sender")) return undefined;
  const db = app.database.db;
  const worker = new SenderWorker({
    queue: new PostgresSendQueue(db),
    results: new PostgresSendResults(db, { newId: app.newId, now: app.now }),
    credentials: new SealedSendCredentials(app.secretBox),
    providers: app.providers,
    logger: app.logger.child({ worker: "sender" }),
    wakeup: app.sendWakeup,
    onEventsCommitted: () => app.outboxWakeup.notify(),
    newId: app.newId,
    now: app.now,
    ...tuning,
  });
  worker.start();
  return worker;
}

export function startInboxWorker(app: AppContext, tuning: InboxTuning = {}): InboxWorker | undefined {
  if (!app.config.workers.has("inbox")) return undefined;
  const worker = new InboxWorker({
    queue: new PostgresInboxQueue(app.database.db, { newId: app.newId, now: app.now, reactions: app.inboundReactions }),
    logger: app.logger.child({ worker: "inbox" }),
    wakeup: app.inboxWakeup,
    onEventsCommitted: () => app.outboxWakeup.notify(),
    newId: app.newId,
    now: app.now,
    // PGlite has one connection: concurrent transactions would only queue behind each other.
    ...(app.database.kind === "pglite" ? { concurrency: 1 } : {}),
    ...tuning,
  });
  worker.start();
  return worker;
}
