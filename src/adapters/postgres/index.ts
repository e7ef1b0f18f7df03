export { PostgresAccountRepository } from "./stores/account-repository.js";
export {
  DEFAULT_POOL_SIZE,
  openDatabase,
  queryRows,
  type Database,
  type DatabaseHandle,
  type DatabaseKind,
  type DatabaseLogger,
  type OpenDatabaseOptions,
  type Schema,
  type Transaction,
} from "./db/database.js";
export {
  CONTROL_SCHEMA,
  defaultMigrationFolders,
  ensureTenant,
  migrate,
  MIGRATIONS_TABLE,
  tenantStatement,
  type EnsureTenantResult,
  type MigrateOptions,
  type MigrateResult,
  type MigrationFolders,
} from "./db/migrator.js";
export { assertTenantId, setTenantSearchPath, tenantSchemaName, withTenant } from "./db/tenant-scope.js";
export { appendToOutbox, subjectFor, type EventName, type OutboxEvent } from "./outbox/outbox.js";
export * as schema from "./schema/index.js";
