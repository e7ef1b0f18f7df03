import type { Config } from "./config.js";
import { createAppContext, type AppContext, type ContextOverrides } from "./context.js";
import { createHttpHandler } from "./adapters/http/app.js";
import { createOnePortServer } from "./adapters/http/one-port-server.js";
import { startRelayWorker } from "./adapters/nats/relay-worker.js";
import { startInactivityCloser } from "./adapters/postgres/inactivity-closer.js";
import { startInboxWorker } from "./adapters/postgres/start-inbox-worker.js";
import { startSenderWorker } from "./adapters/postgres/start-sender-worker.js";
import { startTemplateSyncJob } from "./adapters/postgres/template-sync-job.js";
import { listenForMetrics, type MetricsListener } from "./adapters/metrics/metrics-route.js";
import type { Logger } from "./observability/logger.js";

export interface RunningService {
  app: AppContext;
  /** `http://127.0.0.1:<port>` — what tests and logs use to reach the service. */
  url: string;
  port: number;
  /** `http://host:port` of the METRICS_ADDRESS listener, when configured. */
  metricsUrl: string | undefined;
  /** Drain and stop: refuse new work, finish in-flight requests, close the database. */
  stop(): Promise<void>;
}

/** Builds everything from the config and listens. `main.ts` and the tests both start the service this way. */
export async function startService(config: Config, logger: Logger, overrides: ContextOverrides = {}): Promise<RunningService> {
  const app = await createAppContext(config, logger, overrides);
  let serving = true;
  const server = createOnePortServer(createHttpHandler(app, { serving: () => serving }));
  let address: { port: number; host: string };
  try {
    address = await server.listen(config.port, config.host);
  } catch (error) {
    await app.close();
    throw error;
  }
  let metricsListener: MetricsListener | undefined;
  if (config.metricsAddress) {
    try {
      metricsListener = await listenForMetrics(config.metricsAddress.host, config.metricsAddress.port, app.metrics, (error) =>
        logger.error({ err: error }, "serving /metrics failed"),
      );
    } catch (error) {
      await server.close(0);
      await app.close();
      throw error;
    }
  }
  const inboxWorker = startInboxWorker(app);
  const senderWorker = startSenderWorker(app, overrides.sender);
  const inactivityCloser = startInactivityCloser(app);
  const templateSync = startTemplateSyncJob(app);
  const relayWorker = startRelayWorker(app, { retention: { keepPublishedMs: config.outboxRetentionSeconds * 1000 } });
  const reachableHost = address.host === "0.0.0.0" || address.host === "::" ? "127.0.0.1" : address.host;
  let stopping: Promise<void> | undefined;
  return {
    app,
    url: `http://${reachableHost}:${address.port}`,
    port: address.port,
    metricsUrl: metricsListener?.url,
    stop() {
      stopping ??= (async () => {
        serving = false;
        app.health.shutdown();
        logger.info({ inFlight: server.inFlight() }, "draining");
        // WatchEvents streams never finish on their own: end them now (UNAVAILABLE, resume later) so the drain is
        // not held up. Its reader's last query is awaited by app.close(), before the pool goes.
        void app.eventFeed.close();
        await server.close(config.shutdownGraceMs);
        // Claimed sends go out and their results are recorded (events included).
        await senderWorker?.stop();
        await inactivityCloser?.stop();
        await templateSync?.stop();
        // The inbox worker finishes the deliveries it is applying; their events are then relayed.
        await inboxWorker?.stop();
        // After the requests (their events are committed), before NATS and the database close.
        await relayWorker?.stop();
        await metricsListener?.close();
        await app.close();
        logger.info("stopped");
      })();
      return stopping;
    },
  };
}
