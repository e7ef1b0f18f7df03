import { v7 as uuidv7 } from "uuid";
import type { Config } from "./config.js";
import { loadOrCreateEmbeddedKey } from "./adapters/crypto/embedded-key.js";
import { SecretBox } from "./adapters/crypto/secret-box.js";
import { HealthStatus } from "./adapters/rpc/health.js";
import {
  migrate,
  openDatabase,
  PostgresAccountRepository,
  type DatabaseHandle,
  type MigrationFolders,
} from "./adapters/postgres/index.js";
import type { Logger } from "./observability/logger.js";
import type { AccountRepository } from "./ports/account-repository.js";
import { Wakeup } from "./adapters/shared/wakeup.js";

/**
 * Every dependency, built once from the configuration. Handlers and use
 * cases receive what they need from here; tests override parts (`overrides`).
 */
export interface AppContext {
  config: Config;
  logger: Logger;
  database: DatabaseHandle;
  accounts: AccountRepository;
  health: HealthStatus;
  /** Notified after a webhook delivery is committed to the inbox. */
  inboxWakeup: Wakeup;
  /** Notified after events are committed to the outbox. */
  outboxWakeup: Wakeup;
  /** Time-ordered ids (UUIDv7): index-friendly and sortable by creation. */
  newId: () => string;
  now: () => Date;
  close(): Promise<void>;
}

export interface ContextOverrides {
  migrationFolders?: Partial<MigrationFolders>;
  now?: () => Date;
}

export async function createAppContext(config: Config, logger: Logger, overrides: ContextOverrides = {}): Promise<AppContext> {
  const encryptionKey = config.encryptionKey ?? (await embeddedKey(config, logger));
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
  try {
    const migrated = await migrate(database.db, { ...overrides.migrationFolders, logger });
    logger.info({ ...migrated, database: database.kind }, "database migrated");
  } catch (error) {
    await database.close();
    throw error;
  }
  const box = new SecretBox(encryptionKey);
  return {
    config,
    logger,
    database,
    accounts: new PostgresAccountRepository(database.db, box, { tenantDir: overrides.migrationFolders?.tenantDir }),
    health: new HealthStatus(),
    inboxWakeup: new Wakeup(),
    outboxWakeup: new Wakeup(),
    newId: () => uuidv7(),
    now: overrides.now ?? (() => new Date()),
    close: () => database.close(),
  };
}

async function embeddedKey(config: Config, logger: Logger): Promise<Buffer> {
  const { key, created, file } = await loadOrCreateEmbeddedKey(config.dataDir);
  logger.warn({ file }, created ? "generated an encryption key for embedded mode" : "using the embedded-mode encryption key");
  return key;
}
