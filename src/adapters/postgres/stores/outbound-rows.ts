/** Rows of messages (joined with their contact and account) → StoredMessage. */
import { eq, sql } from "drizzle-orm";

import type { StoredMessage } from "../../../domain/outbound/index.js";
import type { MessageStatus } from "../../../domain/message-status.js";
import type { SendPriority } from "../../../domain/priority.js";
import type { Database } from "../db/database.js";
import { contactFromRow } from "./inbound-rows.js";
import { accounts } from "../schema/control.js";
import { at, columns, CONTACT_COLUMNS, CONTACT_TIMES, contactRowFromReturned, json, type ContactReturned } from "../db/returned-rows.js";
import { contacts, messages } from "../schema/tenant.js";

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
/** A message's columns (of `m`), its contact's (of `c`, as `contact_…`) for `storedMessageFromReturned`; add `account_phone`. */
export const STORED_MESSAGE_RETURNED = sql.raw(`${columns("m.", "", MESSAGE_COLUMNS, MESSAGE_TIMES)}, ${columns("c.", "contact_", CONTACT_COLUMNS, CONTACT_TIMES)}`);

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
