/**
 * `npm run migrate`: applies the control migrations and every tenant
 * migration to every tenant schema, then exits. The service does the same at
 * start; this is for deployments that migrate as a separate step.
 */
import { ConfigError, loadConfig } from "./config.js";
import { migrate, openDatabase } from "./adapters/postgres/index.js";
import { createLogger } from "./observability/logger.js";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`migrate: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel });
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
  try {
    const result = await migrate(database.db, { logger });
    logger.info({ ...result, database: database.kind }, "migrations applied");
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`migrate: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
