import { ConfigError, loadConfig, type Config } from "./config.js";
import { createLogger } from "./observability/logger.js";
import { startService } from "./server.js";

/** Exit code for a configuration the process cannot start with (distinct from a crash). */
const EXIT_BAD_CONFIG = 2;

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`whatsapp-service: ${error.message}\n`);
      process.exit(EXIT_BAD_CONFIG);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger({ level: config.logLevel });
  if (config.embedded) {
    logger.warn(
      { dataDir: config.dataDir, authMode: config.authMode },
      "EMBEDDED MODE: PGlite database under DATA_DIR, no authentication (tenant from the x-tenant-id header), generated encryption key. For trying the service only — set DATABASE_URL for real use.",
    );
  }
  const service = await startService(config, logger);
  logger.info({ url: service.url, port: service.port, database: service.app.database.kind }, `listening on ${service.url} (Connect, gRPC, gRPC-Web; HTTP/1.1 and h2c)`);

  const shutdown = (signal: string) => {
    logger.info({ signal, graceMs: config.shutdownGraceMs }, "shutting down");
    // The drain is bounded (SHUTDOWN_GRACE_MS); anything still running after it is not waited for. Nothing is
    // lost by that (every acknowledged request was committed), but the exit code says the drain did not finish.
    setTimeout(() => {
      logger.error({ graceMs: config.shutdownGraceMs }, "shutdown grace elapsed before the drain finished; exiting");
      process.exit(1);
    }, config.shutdownGraceMs + 500).unref();
    service.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`whatsapp-service: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
