/**
 * The event relay as a background worker of the service: built from the
 * application context when this replica runs the `relay` worker and NATS is
 * configured. Without NATS_URL nothing is published and events stay in the
 * outbox (SPEC §3) until a replica with NATS publishes them.
 */
import type { AppContext } from "../../context.js";
import { inProcessLeaderLock, LeaderRole, postgresLeaderLock } from "../postgres/leader-lock.js";
import { createOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from "./outbox-relay.js";
import { streamSettingsFromConfig } from "./stream.js";

export interface RelayWorker {
  relay: OutboxRelay;
  /** Stops the relay (finishing its batch in flight) and gives up leadership. */
  stop(): Promise<void>;
}

export type RelayTuning = Partial<Omit<OutboxRelayOptions, "db" | "nats" | "stream" | "leaderLock" | "wakeup" | "logger">>;

export function startRelayWorker(app: AppContext, tuning: RelayTuning = {}): RelayWorker | undefined {
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
    metrics: app.metrics,
    ...tuning,
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
