/**
 * Tables that every tenant has in its own schema.
 *
 * Declared with plain `pgTable` (no schema): the query builder leaves them
 * unqualified, so `SET LOCAL search_path TO "<tenant schema>", pg_catalog`
 * (see withTenant) routes every query to the tenant's schema. Never use them
 * outside withTenant — with no tenant schema on the search_path they resolve
 * to nothing.
 *
 * This file imports only drizzle-orm: drizzle-kit loads it on its own to
 * generate `migrations/tenant/`. drizzle-kit qualifies foreign keys with
 * "public"; the migrator strips that qualifier so they point inside the
 * tenant schema.
 */
import { sql } from "drizzle-orm";
import { boolean, check, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const MESSAGE_DIRECTIONS = ["inbound", "outbound"] as const;
export type MessageDirection = (typeof MESSAGE_DIRECTIONS)[number];

export const MESSAGE_STATUSES = ["queued", "sending", "sent", "delivered", "read", "failed", "received"] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export const contacts = pgTable(
  "contacts",
  {
  id: uuid("id").primaryKey().defaultRandom(),
  /**
   * WhatsApp id (the sender's number without +, as Meta sends it); null for a
   * username adopter known only by its BSUID. A contact has a wa id, a BSUID
   * or both (contacts_identified_check); each is unique (ADR 0007).
   */
  waId: text("wa_id").unique("contacts_wa_id_key"),
  phoneE164: text("phone_e164"),
  profileName: text("profile_name"),
  /** Business-scoped user id ("BSUID", Meta `user_id`, e.g. `US.13491208655302741918`), once Meta sends one. */
  bsuid: text("bsuid"),
  /** Parent business-scoped user id (Meta `parent_user_id`, `US.ENT.…`). */
  parentBsuid: text("parent_bsuid"),
  /** WhatsApp username (Meta `profile.username`), when the user has one. */
  username: text("username"),
  /** Meta `identity_key_hash`, sent only when the identity-change check is enabled. */
  identityKeyHash: text("identity_key_hash"),
  optedOut: boolean("opted_out").notNull().default(false),
  firstSeenTime: timestamptz("first_seen_time").notNull().defaultNow(),
  lastSeenTime: timestamptz("last_seen_time").notNull().defaultNow(),
  createTime: timestamptz("create_time").notNull().defaultNow(),
  updateTime: timestamptz("update_time").notNull().defaultNow(),
  },
  (t) => [
    index("contacts_create_time_idx").on(t.createTime, t.id),
    index("contacts_last_seen_time_idx").on(t.lastSeenTime),
    // One contact per BSUID, as per wa id: the identity rules (contact-identity.ts) rely on both.
    uniqueIndex("contacts_bsuid_key").on(t.bsuid).where(sql`${t.bsuid} is not null`),
    // Filters of ListContacts/ListConversations; neither is an identity (a username can move to another user).
    index("contacts_parent_bsuid_idx").on(t.parentBsuid).where(sql`${t.parentBsuid} is not null`),
    index("contacts_username_idx").on(t.username).where(sql`${t.username} is not null`),
    check("contacts_identified_check", sql`${t.waId} is not null or ${t.bsuid} is not null`),
  ],
);

/** Conversation states (ConversationStatus); only `closed` ends one — the next inbound message opens another. */
export const CONVERSATION_STATUSES = ["active", "escalated", "closed"] as const;
export type ConversationStatusName = (typeof CONVERSATION_STATUSES)[number];

export const conversations = pgTable(
  "conversations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** control.accounts.id (another schema, so no foreign key). */
    accountId: uuid("account_id").notNull(),
    contactId: uuid("contact_id")
      .notNull()
      .references(() => contacts.id),
    status: text("status").$type<ConversationStatusName>().notNull().default("active"),
    /** How it started: `inbound`, `post_call`, `manual`. */
    source: text("source"),
    context: text("context"),
    summary: text("summary"),
    externalRefs: jsonb("external_refs").$type<Record<string, string>>().notNull().default({}),
    metadata: jsonb("metadata").$type<Record<string, string>>().notNull().default({}),
    /** When the contact last wrote: the 24-hour customer-service window runs from here. */
    lastInboundTime: timestamptz("last_inbound_time"),
    lastOutboundTime: timestamptz("last_outbound_time"),
    messageCount: integer("message_count").notNull().default(0),
    inboundMessageCount: integer("inbound_message_count").notNull().default(0),
    outboundMessageCount: integer("outbound_message_count").notNull().default(0),
    createTime: timestamptz("create_time").notNull().defaultNow(),
    updateTime: timestamptz("update_time").notNull().defaultNow(),
    closeTime: timestamptz("close_time"),
    /** Why it closed: `inactivity`, `api` (UpdateConversation)… */
    closeReason: text("close_reason"),
  },
  (t) => [
    index("conversations_account_contact_idx").on(t.accountId, t.contactId),
    // The inactivity job's scan: open conversations by last change.
    index("conversations_open_update_time_idx").on(t.updateTime).where(sql`${t.status} <> 'closed'`),
    index("conversations_create_time_idx").on(t.createTime, t.id),
    index("conversations_account_update_time_idx").on(t.accountId, t.updateTime),
    // At most one open conversation per (account, contact): concurrent first
    // messages (two replicas, two deliveries) cannot open two.
    uniqueIndex("conversations_one_open_per_contact_key")
      .on(t.accountId, t.contactId)
      .where(sql`${t.status} <> 'closed'`),
    check("conversations_status_check", sql`${t.status} in ('active', 'escalated', 'closed')`),
  ],
);

export const messages = pgTable(
  "messages",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** control.accounts.id (another schema, so no foreign key). */
    accountId: uuid("account_id").notNull(),
    conversationId: uuid("conversation_id").references(() => conversations.id),
    contactId: uuid("contact_id")
      .notNull()
      .references(() => contacts.id),
    direction: text("direction").$type<MessageDirection>().notNull(),
    type: text("type").notNull(),
    /** The provider's message id (Meta wamid, Twilio SID); unknown until the send is accepted. */
    wamid: text("wamid"),
    status: text("status").$type<MessageStatus>().notNull(),
    /** Outbound: what was sent. Inbound: the normalised InboundMessage (see adapters/postgres/inbound-store.ts). */
    content: jsonb("content").$type<unknown>().notNull().default({}),
    /** Inbound: the provider's message object verbatim, kept when normalisation does not cover it (unsupported types). */
    raw: jsonb("raw").$type<unknown>(),
    errorCode: text("error_code"),
    errorTitle: text("error_title"),
    /** Provider's longer explanation (Meta `error_data.details`). */
    errorDetails: text("error_details"),
    /** Outbound: pricing as last reported with a status (Meta `pricing`). */
    pricing: jsonb("pricing").$type<Record<string, unknown>>(),
    metadata: jsonb("metadata").$type<Record<string, string>>().notNull().default({}),
    /** Outbound: the caller's key, as given (the 24-hour uniqueness lives in send_idempotency_keys). */
    idempotencyKey: text("idempotency_key"),
    /** Outbound: send priority (`otp`, `transactional`, `marketing`); null for inbound. */
    priority: text("priority"),
    /** Outbound: the recipient's WhatsApp id (E.164 digits, no "+") the send goes to. */
    recipient: text("recipient"),
    /** Outbound: the caller's reply_to_message_id as given (our id or a wamid); content.context holds the wamid sent. */
    replyToMessageId: text("reply_to_message_id"),
    /** Outbound: send attempts made so far (the sending work counts them; RetryMessage resets to 0). */
    attemptCount: integer("attempt_count").notNull().default(0),
    /** Outbound: when the next attempt is due while queued for a retry (the sending work sets it). */
    nextAttemptTime: timestamptz("next_attempt_time"),
    createTime: timestamptz("create_time").notNull().defaultNow(),
    updateTime: timestamptz("update_time").notNull().defaultNow(),
    sentTime: timestamptz("sent_time"),
    deliveredTime: timestamptz("delivered_time"),
    readTime: timestamptz("read_time"),
    failedTime: timestamptz("failed_time"),
  },
  (t) => [
    uniqueIndex("messages_wamid_key").on(t.wamid),
    index("messages_idempotency_key_idx").on(t.idempotencyKey).where(sql`${t.idempotencyKey} is not null`),
    index("messages_account_create_time_idx").on(t.accountId, t.createTime),
    // The send queue's view per account: counts by status, the oldest waiting, failures newest first.
    index("messages_outbound_status_idx")
      .on(t.accountId, t.status, t.createTime)
      .where(sql`${t.direction} = 'outbound' and ${t.status} in ('queued', 'sending')`),
    index("messages_failed_time_idx").on(t.failedTime, t.id).where(sql`${t.status} = 'failed'`),
    index("messages_conversation_create_time_idx").on(t.conversationId, t.createTime),
    check("messages_direction_check", sql`${t.direction} in ('inbound', 'outbound')`),
    check(
      "messages_status_check",
      sql`${t.status} in ('queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'received')`,
    ),
  ],
);

/**
 * Idempotency keys of SendMessage, one row per key per tenant schema. A key
 * names its first message until `expire_time` (24 h after the send); a send
 * with an expired key takes the row over. The primary key serialises
 * concurrent sends with the same key: one inserts, the others wait for its
 * commit and then read its message. No foreign key to messages: the row is
 * written first, in the same transaction as the message it names.
 */
export const sendIdempotencyKeys = pgTable(
  "send_idempotency_keys",
  {
    key: text("key").primaryKey(),
    messageId: uuid("message_id").notNull(),
    createTime: timestamptz("create_time").notNull(),
    expireTime: timestamptz("expire_time").notNull(),
  },
  (t) => [index("send_idempotency_keys_expire_time_idx").on(t.expireTime)],
);

/**
 * Statuses that arrived before their message was known (the webhook can beat
 * the Graph API response that tells the sender the wamid). Kept here, never
 * dropped, and applied in arrival order when the sending work records the
 * wamid (applyPendingStatuses).
 */
export const pendingStatuses = pgTable(
  "pending_statuses",
  {
    id: uuid("id").primaryKey(),
    wamid: text("wamid").notNull(),
    /** The provider's status as sent (`sent`, `delivered`, `read`, `failed`, `played`). */
    providerStatus: text("provider_status").notNull(),
    /** When the provider says it happened. */
    statusTime: timestamptz("status_time").notNull(),
    /** The normalised StatusUpdate, ready to apply. */
    update: jsonb("update").$type<unknown>().notNull(),
    /** The provider's status object verbatim. */
    raw: jsonb("raw").$type<unknown>().notNull(),
    receivedTime: timestamptz("received_time").notNull().defaultNow(),
  },
  (t) => [
    // Meta repeats deliveries: one row per (wamid, status) is all that can matter.
    uniqueIndex("pending_statuses_wamid_status_key").on(t.wamid, t.providerStatus),
    index("pending_statuses_received_time_idx").on(t.receivedTime),
  ],
);

/**
 * Management webhooks (template status/quality/category, account updates,
 * phone number quality, user preferences, account-level errors…) recorded
 * for the template and account work; nothing here emits events yet.
 */
export const providerUpdates = pgTable(
  "provider_updates",
  {
    id: uuid("id").primaryKey(),
    /** control.accounts.id, when the update names one number of the tenant. */
    accountId: uuid("account_id"),
    provider: text("provider").notNull(),
    wabaId: text("waba_id").notNull().default(""),
    phoneNumberId: text("phone_number_id").notNull().default(""),
    /** Meta's webhook field, e.g. `message_template_status_update`, `account_update`. */
    field: text("field").notNull(),
    /** The update's `event`, when it has one (`APPROVED`, `ACCOUNT_RESTRICTION`…). */
    event: text("event"),
    /** The typed reading of the update (domain/inbound.ts ProviderUpdate). */
    details: jsonb("details").$type<unknown>().notNull().default({}),
    /** The change's `value` verbatim. */
    payload: jsonb("payload").$type<unknown>().notNull(),
    /** When the provider says it happened (Meta `entry[].time`). */
    occurredTime: timestamptz("occurred_time"),
    receivedTime: timestamptz("received_time").notNull().defaultNow(),
    /** sha256 of field, time and payload: a repeated delivery is recorded once. */
    dedupeKey: text("dedupe_key").notNull(),
  },
  (t) => [
    uniqueIndex("provider_updates_dedupe_key").on(t.dedupeKey),
    index("provider_updates_field_received_time_idx").on(t.field, t.receivedTime),
  ],
);

/**
 * Per-tenant settings, one row (id = 1) once anything is set; absent = the
 * service's defaults. Opt-out/opt-in keywords are matched against inbound
 * text messages (trimmed, case- and accent-insensitive, whole message).
 */
export const tenantSettings = pgTable(
  "tenant_settings",
  {
    id: integer("id").primaryKey().default(1),
    /** Whole-message keywords that set contacts.opted_out; null = the service default list. */
    optOutKeywords: jsonb("opt_out_keywords").$type<string[]>(),
    /** Whole-message keywords that clear contacts.opted_out; null = the service default list. */
    optInKeywords: jsonb("opt_in_keywords").$type<string[]>(),
    /** Idle time after which an open conversation is closed; null = the service default. */
    inactivityTimeoutSeconds: integer("inactivity_timeout_seconds"),
    /** AUTHENTICATION template SendOtp uses when the request names none. */
    otpTemplateName: text("otp_template_name"),
    otpTemplateLanguage: text("otp_template_language"),
    updateTime: timestamptz("update_time").notNull().defaultNow(),
  },
  (t) => [check("tenant_settings_singleton_check", sql`${t.id} = 1`)],
);

export const TEMPLATE_CATEGORIES = ["MARKETING", "UTILITY", "AUTHENTICATION"] as const;
export const TEMPLATE_STATUSES = ["DRAFT", "PENDING", "APPROVED", "REJECTED", "PAUSED", "DISABLED", "IN_APPEAL", "PENDING_DELETION", "DELETED", "ARCHIVED", "LIMIT_EXCEEDED"] as const;
export type TemplateStatusName = (typeof TEMPLATE_STATUSES)[number];

/**
 * Message templates of the tenant's WhatsApp Business Accounts. Meta keys a
 * template by (WABA, name, language); `components` is the latest version,
 * `approved_components` the content of the version Meta approved (what sends
 * must match while a later edit is under review).
 */
export const templates = pgTable(
  "templates",
  {
    id: uuid("id").primaryKey(),
    /** control.accounts.id the template was created through (another schema, so no foreign key). */
    accountId: uuid("account_id").notNull(),
    wabaId: text("waba_id").notNull(),
    name: text("name").notNull(),
    language: text("language").notNull(),
    category: text("category").notNull(),
    /** Latest version's components as the API takes them (TemplateComponents JSON). */
    components: jsonb("components").$type<unknown>().notNull(),
    messageSendTtlSeconds: integer("message_send_ttl_seconds"),
    metaTemplateId: text("meta_template_id"),
    status: text("status").$type<TemplateStatusName>().notNull(),
    rejectedReason: text("rejected_reason"),
    qualityScore: text("quality_score"),
    version: integer("version").notNull().default(1),
    /** Version Meta last approved; null while none is. */
    approvedVersion: integer("approved_version"),
    approvedComponents: jsonb("approved_components").$type<unknown>(),
    createTime: timestamptz("create_time").notNull().defaultNow(),
    updateTime: timestamptz("update_time").notNull().defaultNow(),
    statusUpdateTime: timestamptz("status_update_time"),
    deleteTime: timestamptz("delete_time"),
  },
  (t) => [
    uniqueIndex("templates_waba_name_language_key").on(t.wabaId, t.name, t.language).where(sql`${t.deleteTime} is null`),
    index("templates_meta_template_id_idx").on(t.metaTemplateId),
    index("templates_account_name_idx").on(t.accountId, t.name),
  ],
);

/** Every version of a template: each edit is a new row; the approved one stays known. */
export const templateVersions = pgTable(
  "template_versions",
  {
    templateId: uuid("template_id")
      .notNull()
      .references(() => templates.id),
    version: integer("version").notNull(),
    category: text("category").notNull(),
    components: jsonb("components").$type<unknown>().notNull(),
    /** Status this version reached (PENDING until Meta decides). */
    status: text("status").notNull(),
    rejectedReason: text("rejected_reason"),
    createTime: timestamptz("create_time").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.templateId, t.version] })],
);

export const OTP_STATES = ["pending", "verified", "expired", "locked", "failed"] as const;
export type OtpState = (typeof OTP_STATES)[number];

/**
 * One-time codes sent over WhatsApp. The code itself is never stored: only
 * an HMAC of it (keyed by the service's secret, salted per row).
 */
export const otps = pgTable(
  "otps",
  {
    id: uuid("id").primaryKey(),
    accountId: uuid("account_id").notNull(),
    contactId: uuid("contact_id").references(() => contacts.id),
    /** Recipient WhatsApp id (E.164 digits, no "+"). */
    waId: text("wa_id").notNull(),
    /** The message carrying the code. */
    messageId: uuid("message_id"),
    codeHash: text("code_hash").notNull(),
    codeSalt: text("code_salt").notNull(),
    codeLength: integer("code_length").notNull(),
    state: text("state").$type<OtpState>().notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    maxAttempts: integer("max_attempts").notNull(),
    requestId: text("request_id"),
    templateName: text("template_name").notNull(),
    templateLanguage: text("template_language").notNull(),
    metadata: jsonb("metadata").$type<Record<string, string>>().notNull().default({}),
    createTime: timestamptz("create_time").notNull().defaultNow(),
    expireTime: timestamptz("expire_time").notNull(),
    resendAvailableTime: timestamptz("resend_available_time").notNull(),
    verifyTime: timestamptz("verify_time"),
    /** `api` or `chat` (the user typed the code back). */
    verifiedVia: text("verified_via"),
  },
  (t) => [
    index("otps_wa_id_create_time_idx").on(t.waId, t.createTime),
    uniqueIndex("otps_request_id_key").on(t.requestId).where(sql`${t.requestId} is not null`),
    index("otps_expire_time_idx").on(t.expireTime).where(sql`${t.state} = 'pending'`),
    check("otps_state_check", sql`${t.state} in ('pending', 'verified', 'expired', 'locked', 'failed')`),
  ],
);
