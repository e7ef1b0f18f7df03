/**
 * The sender as a background worker of the service: built from the
 * application context when this replica runs the `sender` worker.
 */
import type { AppContext } from "../../context.js";
import { SenderWorker, type SenderTuning } from "./sender-worker.js";

export type { SenderTuning };

export function startSenderWorker(app: AppContext, tuning: SenderTuning = {}): SenderWorker | undefined {
  if (!app.config.workers.has("sender")) return undefined;
  const worker = new SenderWorker({
    db: app.database.db,
    providers: app.providers,
    secretBox: app.secretBox,
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
