import type { Config } from "./config.js";
import { createAppContext, type AppContext, type ContextOverrides } from "./context.js";
import { createHttpHandler } from "./adapters/http/app.js";
import { createOnePortServer } from "./adapters/http/one-port-server.js";
import { startDatabaseHealth } from "./adapters/rpc/database-health.js";
import { routes } from "./adapters/rpc/routes.js";
import { accountStatusCounts } from "./adapters/postgres/stores/account-statuses.js";
import { startInactivityCloser, startInboxWorker, startRelayWorker, startSenderWorker, startTemplateSyncJob } from "./start-workers.js";
import type { Logger } from "./observability/logger.js";

export interface RunningService {
  app: AppContext;
  /** `http://127.0.0.1:<port>` — what tests and logs use to reach the service. */
  url: string;
  port: number;
  /** Drain and stop: refuse new work, finish in-flight requests, close the database. */
  stop(): Promise<void>;
}

/** Builds everything from the config and listens. `main.ts` and the tests both start the service this way. */
export async function startService(config: Config, logger: Logger, overrides: ContextOverrides = {}): Promise<RunningService> {
  const app = await createAppContext(config, logger, overrides);
  let serving = true;

  // gRPC health and /health/db follow the database from here on.
  const databaseHealth = startDatabaseHealth({
    health: app.health,
    ping: (timeoutMs) => app.database.ping(timeoutMs),
    intervalMs: config.healthProbeIntervalMs,
    logger,
  });
  const server = createOnePortServer(
    createHttpHandler(
      { ...app, routes: routes(app.rpc), accountStatuses: () => accountStatusCounts(app.database.db) },
      { serving: () => serving, database: () => databaseHealth.state() },
    ),
    config.http,
  );
  let address: { port: number; host: string };
  try {
    address = await server.listen(config.port, config.host);
  } catch (error) {
    await databaseHealth.stop();
    await app.close();
    throw error;
  }
  const inboxWorker = startInboxWorker(app);
  const senderWorker = startSenderWorker(app, overrides.sender);
  const inactivityCloser = startInactivityCloser(app);
  const templateSync = startTemplateSyncJob(app);
  const relayWorker = startRelayWorker(app);
  const reachableHost = address.host === "0.0.0.0" || address.host === "::" ? "127.0.0.1" : address.host;
  let stopping: Promise<void> | undefined;
  return {
    app,
    url: `http://${reachableHost}:${address.port}`,
    port: address.port,
    stop() {
      stopping ??= (async () => {
        serving = false;
        await databaseHealth.stop();
        app.health.shutdown();
        logger.info({ inFlight: server.inFlight() }, "draining");
        // WatchEvents streams never finish on their own: end them now (UNAVAILABLE, resume later) so the drain is
        // not held up. Its reader's last query is awaited by app.close(), before the pool goes.
        void app.eventFeed.close();
        // Requests get most of the grace; the workers' last steps and the pool's close get the rest (main.ts exits
        // when the whole grace is over, whatever is still running).
        await server.close(Math.max(0, config.shutdownGraceMs - Math.min(2_000, Math.floor(config.shutdownGraceMs / 5))));
        // Claimed sends go out and their results are recorded (events included).
        await senderWorker?.stop();
        await inactivityCloser?.stop();
        await templateSync?.stop();
        // The inbox worker finishes the deliveries it is applying; their events are then relayed.
        await inboxWorker?.stop();
        // After the requests (their events are committed), before NATS and the database close.
        await relayWorker?.stop();
        await app.close();
        logger.info("stopped");
      })();
      return stopping;
    },
  };
}
