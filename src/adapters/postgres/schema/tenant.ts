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
import { boolean, check, index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const MESSAGE_DIRECTIONS = ["inbound", "outbound"] as const;
export type MessageDirection = (typeof MESSAGE_DIRECTIONS)[number];

export const MESSAGE_STATUSES = ["queued", "sending", "sent", "delivered", "read", "failed", "received"] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export const contacts = pgTable("contacts", {
  id: uuid("id").primaryKey().defaultRandom(),
  /** WhatsApp id (the sender's number without +, as Meta sends it). */
  waId: text("wa_id").notNull().unique("contacts_wa_id_key"),
  phoneE164: text("phone_e164"),
  profileName: text("profile_name"),
  /** Business-scoped user id, when Meta provides one instead of a number. */
  bsuid: text("bsuid"),
  optedOut: boolean("opted_out").notNull().default(false),
  firstSeenTime: timestamptz("first_seen_time").notNull().defaultNow(),
  lastSeenTime: timestamptz("last_seen_time").notNull().defaultNow(),
  createTime: timestamptz("create_time").notNull().defaultNow(),
  updateTime: timestamptz("update_time").notNull().defaultNow(),
});

export const conversations = pgTable(
  "conversations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** control.accounts.id (another schema, so no foreign key). */
    accountId: uuid("account_id").notNull(),
    contactId: uuid("contact_id")
      .notNull()
      .references(() => contacts.id),
    status: text("status").notNull().default("open"),
    source: text("source"),
    context: text("context"),
    summary: text("summary"),
    externalRefs: jsonb("external_refs").$type<Record<string, string>>().notNull().default({}),
    metadata: jsonb("metadata").$type<Record<string, string>>().notNull().default({}),
    lastInboundTime: timestamptz("last_inbound_time"),
    lastOutboundTime: timestamptz("last_outbound_time"),
    createTime: timestamptz("create_time").notNull().defaultNow(),
    updateTime: timestamptz("update_time").notNull().defaultNow(),
    closeTime: timestamptz("close_time"),
  },
  (t) => [
    index("conversations_account_contact_idx").on(t.accountId, t.contactId),
    index("conversations_account_update_time_idx").on(t.accountId, t.updateTime),
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
    content: jsonb("content").$type<unknown>().notNull().default({}),
    errorCode: text("error_code"),
    errorTitle: text("error_title"),
    metadata: jsonb("metadata").$type<Record<string, string>>().notNull().default({}),
    idempotencyKey: text("idempotency_key"),
    createTime: timestamptz("create_time").notNull().defaultNow(),
    updateTime: timestamptz("update_time").notNull().defaultNow(),
    sentTime: timestamptz("sent_time"),
    deliveredTime: timestamptz("delivered_time"),
    readTime: timestamptz("read_time"),
    failedTime: timestamptz("failed_time"),
  },
  (t) => [
    uniqueIndex("messages_wamid_key").on(t.wamid),
    uniqueIndex("messages_idempotency_key_key").on(t.idempotencyKey).where(sql`${t.idempotencyKey} is not null`),
    index("messages_account_create_time_idx").on(t.accountId, t.createTime),
    index("messages_conversation_create_time_idx").on(t.conversationId, t.createTime),
    check("messages_direction_check", sql`${t.direction} in ('inbound', 'outbound')`),
    check(
      "messages_status_check",
      sql`${t.status} in ('queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'received')`,
    ),
  ],
);
