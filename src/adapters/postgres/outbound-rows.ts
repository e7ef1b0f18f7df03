/** Rows of messages (joined with their contact and account) → StoredMessage. */
import { eq, sql } from "drizzle-orm";

import type { StoredMessage } from "../../domain/outbound/index.js";
import type { MessageStatus } from "../../domain/message-status.js";
import type { SendPriority } from "../../domain/priority.js";
import type { Database } from "./database.js";
import { contactFromRow } from "./inbound-rows.js";
import { accounts } from "./schema/control.js";
import { contacts, messages, type conversations } from "./schema/tenant.js";

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const PRIORITIES: readonly string[] = ["otp", "transactional", "marketing"] satisfies SendPriority[];

/** messages ⋈ contacts ⟕ control.accounts: everything the Message resource shows. Run inside withTenant. */
export function selectStoredMessages(tx: Database) {
  return tx
    .select({ message: messages, contact: contacts, accountPhone: accounts.displayPhoneNumber })
    .from(messages)
    .innerJoin(contacts, eq(contacts.id, messages.contactId))
    .leftJoin(accounts, eq(accounts.id, messages.accountId));
}

export type StoredMessageRow = {
  message: typeof messages.$inferSelect;
  contact: typeof contacts.$inferSelect;
  accountPhone: string | null;
};

export function storedMessageFromRow({ message: m, contact, accountPhone }: StoredMessageRow): StoredMessage {
  return {
    id: m.id,
    accountId: m.accountId,
    accountPhone: accountPhone ?? "",
    conversationId: m.conversationId ?? undefined,
    contact: contactFromRow(contact),
    direction: m.direction,
    type: m.type,
    status: m.status as MessageStatus,
    wamid: m.wamid ?? undefined,
    content: m.content,
    replyToMessageId: m.replyToMessageId ?? undefined,
    priority: m.priority !== null && PRIORITIES.includes(m.priority) ? (m.priority as SendPriority) : undefined,
    idempotencyKey: m.idempotencyKey ?? undefined,
    metadata: { ...m.metadata },
    error: m.errorCode !== null || m.errorTitle !== null ? { code: m.errorCode ?? "", title: m.errorTitle ?? "", details: m.errorDetails ?? "" } : undefined,
    attemptCount: m.attemptCount,
    nextAttemptTime: m.nextAttemptTime ?? undefined,
    pricing: m.pricing ?? undefined,
    createTime: m.createTime,
    updateTime: m.updateTime,
    sentTime: m.sentTime ?? undefined,
    deliveredTime: m.deliveredTime ?? undefined,
    readTime: m.readTime ?? undefined,
    failedTime: m.failedTime ?? undefined,
  };
}

/*
 * The same values from raw SQL (hot prepared statements, prepared-query.ts):
 * snake_case columns, times as epoch milliseconds (float8) so postgres.js and
 * PGlite read them alike, jsonb as parsed values or text.
 */

const MESSAGE_COLUMNS = [
  "id",
  "account_id",
  "conversation_id",
  "contact_id",
  "direction",
  "type",
  "wamid",
  "status",
  "content",
  "error_code",
  "error_title",
  "error_details",
  "pricing",
  "metadata",
  "idempotency_key",
  "priority",
  "reply_to_message_id",
  "attempt_count",
];
const MESSAGE_TIMES = ["next_attempt_time", "create_time", "update_time", "sent_time", "delivered_time", "read_time", "failed_time"];
const CONTACT_COLUMNS = ["id", "wa_id", "phone_e164", "profile_name", "bsuid", "parent_bsuid", "username", "identity_key_hash", "opted_out"];
const CONTACT_TIMES = ["first_seen_time", "last_seen_time", "create_time", "update_time"];
const CONVERSATION_COLUMNS = [
  "id",
  "account_id",
  "contact_id",
  "status",
  "source",
  "context",
  "summary",
  "external_refs",
  "metadata",
  "message_count",
  "inbound_message_count",
  "outbound_message_count",
  "close_reason",
];
const CONVERSATION_TIMES = ["last_inbound_time", "last_outbound_time", "create_time", "update_time", "close_time"];

const ms = (column: string) => `(extract(epoch from ${column}) * 1000)::float8`;
const columns = (prefix: string, alias: string, names: readonly string[], times: readonly string[]) =>
  [...names.map((c) => `${prefix}${c} as ${alias}${c}`), ...times.map((c) => `${ms(prefix + c)} as ${alias}${c.replace(/_time$/, "_ms")}`)].join(", ");

/** A message's columns (of `m`), its contact's (of `c`, as `contact_…`) for `storedMessageFromReturned`; add `account_phone`. */
export const STORED_MESSAGE_RETURNED = sql.raw(`${columns("m.", "", MESSAGE_COLUMNS, MESSAGE_TIMES)}, ${columns("c.", "contact_", CONTACT_COLUMNS, CONTACT_TIMES)}`);

/** A contact's columns (unprefixed) for `contactFromReturned`. */
export const CONTACT_RETURNED = sql.raw(columns("", "", CONTACT_COLUMNS, CONTACT_TIMES));

/** A conversation's columns (unprefixed, or of `prefix`) for `conversationFromReturned`. */
export const conversationReturned = (prefix = "") => sql.raw(columns(prefix, "", CONVERSATION_COLUMNS, CONVERSATION_TIMES));

type Json = Record<string, unknown> | string;
type Ms = number | string | null;

function at(value: Ms): Date | null {
  return value === null ? null : new Date(Number(value));
}

function json<T>(value: unknown): T {
  return (typeof value === "string" ? JSON.parse(value) : value) as T;
}

export interface ContactReturned extends Record<string, unknown> {
  id: string;
  wa_id: string;
  phone_e164: string | null;
  profile_name: string | null;
  bsuid: string | null;
  parent_bsuid: string | null;
  username: string | null;
  identity_key_hash: string | null;
  opted_out: boolean;
  first_seen_ms: Ms;
  last_seen_ms: Ms;
  create_ms: Ms;
  update_ms: Ms;
}

/** The row drizzle would give for the same contact. */
export function contactRowFromReturned(row: ContactReturned, alias = ""): typeof contacts.$inferSelect {
  const r = row as Record<string, unknown>;
  const get = <T>(name: string) => r[alias + name] as T;
  return {
    id: get("id"),
    waId: get("wa_id"),
    phoneE164: get("phone_e164"),
    profileName: get("profile_name"),
    bsuid: get("bsuid"),
    parentBsuid: get("parent_bsuid"),
    username: get("username"),
    identityKeyHash: get("identity_key_hash"),
    optedOut: get("opted_out"),
    firstSeenTime: at(get("first_seen_ms"))!,
    lastSeenTime: at(get("last_seen_ms"))!,
    createTime: at(get("create_ms"))!,
    updateTime: at(get("update_ms"))!,
  };
}

export interface ConversationReturned extends Record<string, unknown> {
  id: string;
  account_id: string;
  contact_id: string;
  status: string;
  source: string | null;
  context: string | null;
  summary: string | null;
  external_refs: Json;
  metadata: Json;
  message_count: number | string;
  inbound_message_count: number | string;
  outbound_message_count: number | string;
  close_reason: string | null;
  last_inbound_ms: Ms;
  last_outbound_ms: Ms;
  create_ms: Ms;
  update_ms: Ms;
  close_ms: Ms;
}

/** The row drizzle would give for the same conversation. */
export function conversationRowFromReturned(row: ConversationReturned): typeof conversations.$inferSelect {
  return {
    id: row.id,
    accountId: row.account_id,
    contactId: row.contact_id,
    status: row.status as (typeof conversations.$inferSelect)["status"],
    source: row.source,
    context: row.context,
    summary: row.summary,
    externalRefs: json(row.external_refs),
    metadata: json(row.metadata),
    messageCount: Number(row.message_count),
    inboundMessageCount: Number(row.inbound_message_count),
    outboundMessageCount: Number(row.outbound_message_count),
    lastInboundTime: at(row.last_inbound_ms),
    lastOutboundTime: at(row.last_outbound_ms),
    createTime: at(row.create_ms)!,
    updateTime: at(row.update_ms)!,
    closeTime: at(row.close_ms),
    closeReason: row.close_reason,
  };
}

/** A row of STORED_MESSAGE_RETURNED + `account_phone` → the StoredMessageRow drizzle's select would give. */
export function storedMessageRowFromReturned(row: Record<string, unknown>): StoredMessageRow {
  const get = <T>(name: string) => row[name] as T;
  return {
    message: {
      id: get("id"),
      accountId: get("account_id"),
      conversationId: get("conversation_id"),
      contactId: get("contact_id"),
      direction: get("direction"),
      type: get("type"),
      wamid: get("wamid"),
      status: get("status"),
      content: json(get("content")),
      // Not read back (never shown by the Message resource).
      raw: null,
      errorCode: get("error_code"),
      errorTitle: get("error_title"),
      errorDetails: get("error_details"),
      pricing: json(get("pricing")),
      metadata: json(get("metadata")),
      idempotencyKey: get("idempotency_key"),
      priority: get("priority"),
      recipient: null,
      replyToMessageId: get("reply_to_message_id"),
      attemptCount: Number(get("attempt_count")),
      nextAttemptTime: at(get("next_attempt_ms")),
      createTime: at(get("create_ms"))!,
      updateTime: at(get("update_ms"))!,
      sentTime: at(get("sent_ms")),
      deliveredTime: at(get("delivered_ms")),
      readTime: at(get("read_ms")),
      failedTime: at(get("failed_ms")),
    },
    contact: contactRowFromReturned(row as ContactReturned, "contact_"),
    accountPhone: get("account_phone"),
  };
}
