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
import { openNatsConnection, type NatsLink } from "./adapters/nats/connection.js";
import { InboxWriter, PostgresOwnDeliveries, type InboxWriterOptions } from "./adapters/postgres/inbox/inbox-writer.js";
import { PostgresWebhookSecrets } from "./adapters/postgres/stores/account-webhook-secrets.js";
import type { WebhookSecrets } from "./ports/webhook-inbox.js";
import { WebhookCounters } from "./adapters/http/webhook-counters.js";
import { DefaultProviderRegistry, type ProviderRegistryOptions } from "./adapters/providers/registry.js";
import type { ProviderRegistry } from "./ports/whatsapp-provider.js";
import type { SenderTuning } from "./config.js";
import { optOutKeywordReaction, otpTypedBackReaction, templateStatusReaction, userPreferencesReaction, type InboundReactions } from "./app/inbound-reactions.js";
import { PostgresConversationStore } from "./adapters/postgres/stores/conversation-store.js";
import type { ConversationStore } from "./ports/conversation-store.js";
import { EventFeed, OutboxWakeup } from "./adapters/postgres/outbox/event-feed.js";
import { outboxRecordToEvent } from "./adapters/events/event-envelope.js";
import type { Event } from "../gen/whatsapp/v1/events_pb.js";
import { deriveCodeKey } from "./domain/otp/code.js";
import { codeSealer, revealingOtpCodes } from "./adapters/providers/sealed-otp-codes.js";
import { PostgresTemplateStore } from "./adapters/postgres/stores/template-store.js";
import { DefaultTemplateProviders } from "./adapters/providers/template-providers.js";
import type { TemplateStore } from "./ports/template-store.js";
import type { TemplateProviders } from "./ports/template-provider.js";
import { PostgresOutboundStore } from "./adapters/postgres/stores/outbound-store.js";
import { PostgresOtpStore } from "./adapters/postgres/stores/otp-store.js";
import type { RpcDeps } from "./adapters/rpc/routes.js";

/**
 * Every dependency, built once from the configuration. Handlers and use
 * cases receive what they need from here; tests override parts (`overrides`).
 */
export interface AppContext {
  config: Config;
  logger: Logger;
  database: DatabaseHandle;
  accounts: AccountRepository;
  /** Conversations, their messages, contacts and conversation settings (ConversationService). */
  conversations: ConversationStore;
  /** Seals and opens credentials at rest (AES-256-GCM with ENCRYPTION_KEY). */
  secretBox: SecretBox;
  /** HMAC key of one-time codes, derived from ENCRYPTION_KEY (see domain/otp/code.ts). */
  otpCodeKey: Buffer;
  health: HealthStatus;
  /** Durable, group-committed writes of webhook deliveries to the inbox. */
  inboxWriter: InboxWriter;
  /** Per-account webhook secrets (`/webhook/{account_id}`). */
  webhookSecrets: WebhookSecrets;
  /** Webhook outcomes counted in memory (no /metrics route serves them yet). */
  webhookCounters: WebhookCounters;
  /** Notified after a webhook delivery is committed to the inbox. */
  inboxWakeup: Wakeup;
  /** Notified after events are committed to the outbox (wakes the relay and the event feed). */
  outboxWakeup: OutboxWakeup;
  /** The tenants' events in commit order, replayed and live (WatchEvents). */
  eventFeed: EventFeed<Event>;
  /** Notified after send jobs are committed: the sender claims now instead of at its next poll. */
  sendWakeup: Wakeup;
  /** The provider (Meta Cloud API, sandbox…) that sends for an account. */
  providers: ProviderRegistry;
  /** Message templates of the tenants' WABAs (TemplateService, the send check, the sync job). */
  templates: TemplateStore;
  /** The provider's template management (Meta Graph API, sandbox) for an account. */
  templateProviders: TemplateProviders;
  /** The NATS connection (reconnecting in the background); undefined without NATS_URL. */
  nats: NatsLink | undefined;
  /** What follows newly stored inbound messages, in their transaction (see app/inbound-reactions.ts). */
  inboundReactions: InboundReactions;
  /** What the RPC handlers use, service by service (adapters/rpc/routes.ts): the parts above, and the stores only they use. */
  rpc: RpcDeps;
  /** Time-ordered ids (UUIDv7): index-friendly and sortable by creation. */
  newId: () => string;
  now: () => Date;
  close(): Promise<void>;
}

export interface ContextOverrides {
  migrationFolders?: Partial<MigrationFolders>;
  now?: () => Date;
  /** Batch and queue bounds of the webhook inbox writer (bench/ tunes them). */
  inboxWriter?: Partial<InboxWriterOptions>;
  /** Graph API timeout and sandbox status delays (tests shorten them). */
  providers?: Pick<ProviderRegistryOptions, "graphTimeoutMs" | "sandbox">;
  /** Sender worker tuning: retry delays, reconcile window, circuit settings (tests shorten them). */
  sender?: SenderTuning;
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
  const otpCodeKey = deriveCodeKey(encryptionKey);
  // Connects in the background: the service starts and serves without NATS (events wait in the outbox).
  const nats = config.natsUrl ? openNatsConnection({ servers: config.natsUrl, logger }) : undefined;
  const inboxWriter = InboxWriter.forDatabase(database.db, overrides.inboxWriter);
  const inboxWakeup = new Wakeup();
  const sendWakeup = new Wakeup();
  const outboxWakeup = new OutboxWakeup();
  const eventFeed = new EventFeed({ db: database.db, decode: outboxRecordToEvent, logger: logger.child({ component: "event-feed" }) });
  outboxWakeup.onNotify(() => eventFeed.wake());
  const ownDeliveries = new PostgresOwnDeliveries(database.db);
  const providers = new DefaultProviderRegistry({
    inbox: ownDeliveries,
    graphUrl: config.whatsappGraphUrl,
    graphVersion: config.whatsappApiVersion,
    inboxWakeup,
    ...overrides.providers,
  });
  const app: Omit<AppContext, "rpc"> = {
    config,
    logger,
    database,
    accounts: new PostgresAccountRepository(database.db, box, { tenantDir: overrides.migrationFolders?.tenantDir }),
    conversations: new PostgresConversationStore(database.db, {
      newId: () => uuidv7(),
      tenantDir: overrides.migrationFolders?.tenantDir,
      onEventsCommitted: () => outboxWakeup.notify(),
      // Queued sends (StartConversation) start at once instead of at the sender's next poll.
      onJobsCommitted: () => sendWakeup.notify(),
    }),
    secretBox: box,
    otpCodeKey,
    health: new HealthStatus(),
    inboxWriter,
    webhookSecrets: new PostgresWebhookSecrets(database.db, box),
    webhookCounters: new WebhookCounters(),
    inboxWakeup,
    outboxWakeup,
    eventFeed,
    sendWakeup,
    // One-time codes sit sealed in queued messages; they are opened just before a provider sends them.
    providers: revealingOtpCodes(providers, box),
    templates: new PostgresTemplateStore(database.db, { newId: () => uuidv7(), onEventsCommitted: () => outboxWakeup.notify() }),
    templateProviders: new DefaultTemplateProviders({
      inbox: ownDeliveries,
      graphUrl: config.whatsappGraphUrl,
      graphVersion: config.whatsappApiVersion,
      inboxWakeup,
      ...(overrides.providers?.graphTimeoutMs !== undefined ? { timeoutMs: overrides.providers.graphTimeoutMs } : {}),
    }),
    nats,
    inboundReactions: {
      messages: [otpTypedBackReaction({ codeKey: otpCodeKey }), optOutKeywordReaction],
      providerUpdates: [templateStatusReaction, userPreferencesReaction],
    },
    newId: () => uuidv7(),
    now: overrides.now ?? (() => new Date()),
    async close() {
      // Deliveries already queued are committed (or fail) before the pool goes.
      await inboxWriter.close();
      await eventFeed.close();
      providers.close();
      await nats?.close();
      await database.close();
    },
  };
  return { ...app, rpc: rpcDeps(app) };
}

/** The RPC handlers' share of the context: each service gets the few ports and settings its handlers use. */
function rpcDeps(app: Omit<AppContext, "rpc">): RpcDeps {
  const { accounts, conversations, templates, templateProviders, eventFeed, providers, newId, now, config } = app;
  const notify = {
    onEventsCommitted: () => app.outboxWakeup.notify(),
    // Queued sends (a message, a code) start at once instead of at the sender's next poll.
    onJobsCommitted: () => app.sendWakeup.notify(),
  };
  const { otp } = config;
  return {
    health: app.health,
    accountService: { accounts, newId, now },
    messagingService: { outbound: new PostgresOutboundStore(app.database.db, { newId, ...notify }), accounts, providers, templates, newId, now },
    conversationService: {
      conversations,
      templates,
      eventFeed,
      defaultInactivityTimeoutSeconds: config.conversationInactivityTimeoutSeconds,
      newId,
      now,
    },
    templateService: { templates, accounts, templateProviders, newId, now },
    otpService: {
      otps: new PostgresOtpStore(app.database.db, { newId, ...notify }),
      policy: {
        maxAttempts: otp.maxAttempts,
        resendCooldownMs: otp.resendCooldownSeconds * 1000,
        maxPerPhonePerHour: otp.maxPerPhonePerHour,
        maxPerTenantPerMinute: otp.maxPerTenantPerMinute,
        templateName: otp.templateName,
        templateLanguage: otp.templateLanguage,
      },
      codeKey: app.otpCodeKey,
      sealCode: codeSealer(app.secretBox),
      newId,
      now,
    },
  };
}

async function embeddedKey(config: Config, logger: Logger): Promise<Buffer> {
  const { key, created, file } = await loadOrCreateEmbeddedKey(config.dataDir);
  logger.warn({ file }, created ? "generated an encryption key for embedded mode" : "using the embedded-mode encryption key");
  return key;
}
