/**
 * The background workers of a replica (WORKERS), each built from the few
 * parts of the context it uses — ports and tuning, never the context itself —
 * and stopped in the order that loses nothing (server.ts).
 */
import type { InboxTuning, SenderTuning } from "./config.js";
import type { AppContext } from "./context.js";
import { PostgresSendQueue } from "./adapters/postgres/send/send-queue.js";
import { PostgresSendResults } from "./adapters/postgres/send/send-results.js";
import { SealedSendCredentials } from "./adapters/postgres/send/send-credentials.js";
import { createOutboxRelay, type OutboxRelay } from "./adapters/nats/outbox-relay.js";
import { streamSettingsFromConfig } from "./adapters/nats/stream.js";
import { PostgresInactiveConversations } from "./adapters/postgres/stores/inactive-conversations.js";
import { PostgresInboxQueue } from "./adapters/postgres/inbox/inbox-queue.js";
import { inProcessLeaderLock, LeaderRole, postgresLeaderLock } from "./adapters/postgres/db/leader-lock.js";
import { PostgresTemplateSyncSchedule } from "./adapters/postgres/stores/template-sync-schedule.js";
import { InactivityCloser } from "./workers/inactivity-closer.js";
import { InboxWorker } from "./workers/inbox-worker.js";
import { SenderWorker } from "./workers/sender.js";
import { TemplateSyncJob } from "./workers/template-sync.js";

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
    queue: new PostgresInboxQueue(app.database.db, { newId: app.newId, now: app.now }),
    reactions: app.inboundReactions,
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

/** The inactivity job, when this replica runs the `scheduler` worker. */
export function startInactivityCloser(app: AppContext): InactivityCloser | undefined {
  if (!app.config.workers.has("scheduler")) return undefined;
  const closer = new InactivityCloser({
    conversations: new PostgresInactiveConversations(app.database.db),
    logger: app.logger.child({ worker: "inactivity" }),
    newId: app.newId,
    now: app.now,
    defaultTimeoutSeconds: app.config.conversationInactivityTimeoutSeconds,
    intervalMs: app.config.inactivitySweepIntervalMs,
    onEventsCommitted: () => app.outboxWakeup.notify(),
  });
  closer.start();
  return closer;
}

/** The template sync: on replicas running `scheduler`, unless TEMPLATE_SYNC_INTERVAL_SECONDS is 0. */
export function startTemplateSyncJob(app: AppContext): TemplateSyncJob | undefined {
  if (!app.config.workers.has("scheduler") || app.config.templateSyncIntervalSeconds === 0) return undefined;
  const job = new TemplateSyncJob({
    schedule: new PostgresTemplateSyncSchedule(app.database.db),
    deps: { templates: app.templates, accounts: app.accounts, templateProviders: app.templateProviders, newId: app.newId, now: app.now },
    logger: app.logger.child({ worker: "template-sync" }),
    intervalMs: app.config.templateSyncIntervalSeconds * 1000,
  });
  job.start();
  return job;
}

export interface RelayWorker {
  relay: OutboxRelay;
  /** Stops the relay (finishing its batch in flight) and gives up leadership. */
  stop(): Promise<void>;
}

/**
 * The event relay, when this replica runs the `relay` worker and NATS is
 * configured. Without NATS_URL nothing is published and events stay in the
 * outbox (SPEC §3) until a replica with NATS publishes them.
 */
export function startRelayWorker(app: AppContext): RelayWorker | undefined {
  const { config, logger } = app;
  if (!config.workers.has("relay")) return undefined;
  if (!app.nats) {
    logger.warn("NATS_URL is not set: events are kept in the outbox and not published");
    return undefined;
  }
  // PGlite lives inside this one process, so leadership only has to be exclusive here.
  const leaderLock =
    app.database.kind === "postgres" && config.databaseUrl
      ? postgresLeaderLock({ databaseUrl: config.databaseUrl, role: LeaderRole.outboxRelay })
      : inProcessLeaderLock(LeaderRole.outboxRelay);
  const relay = createOutboxRelay({
    db: app.database.db,
    nats: app.nats,
    stream: streamSettingsFromConfig(config),
    leaderLock,
    wakeup: app.outboxWakeup,
    logger: logger.child({ worker: "relay" }),
    retention: { keepPublishedMs: config.outboxRetentionSeconds * 1000 },
  });
  relay.start();
  let stopping: Promise<void> | undefined;
  return {
    relay,
    stop: () =>
      (stopping ??= (async () => {
        await relay.stop();
        await leaderLock.close();
      })()),
  };
}
