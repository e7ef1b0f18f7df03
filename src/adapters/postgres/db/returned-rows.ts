/**
 * Contacts, conversations and accounts as raw SQL returns them (hot prepared
 * statements, prepared-query.ts): snake_case columns, times as epoch
 * milliseconds (float8) so postgres.js and PGlite read them alike, jsonb as
 * parsed values or text — and the rows drizzle would give for the same data,
 * so the existing `…FromRow` mappers apply. One place for every hot path
 * (inbound processing, the send transaction, find-or-open).
 */
import { sql } from "drizzle-orm";

import type { AccountRef } from "../../../domain/inbound-events.js";
import { accountFromRow } from "../stores/inbound-rows.js";
import type { contacts, conversations } from "../schema/tenant.js";

export const CONTACT_COLUMNS = ["id", "wa_id", "phone_e164", "profile_name", "bsuid", "parent_bsuid", "username", "identity_key_hash", "opted_out"];
export const CONTACT_TIMES = ["first_seen_time", "last_seen_time", "create_time", "update_time"];
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
export const columns = (prefix: string, alias: string, names: readonly string[], times: readonly string[]) =>
  [...names.map((c) => `${prefix}${c} as ${alias}${c}`), ...times.map((c) => `${ms(prefix + c)} as ${alias}${c.replace(/_time$/, "_ms")}`)].join(", ");

/** A contact's columns (unprefixed) for `contactFromReturned`. */
export const CONTACT_RETURNED = sql.raw(columns("", "", CONTACT_COLUMNS, CONTACT_TIMES));

/** A conversation's columns (unprefixed, or of `prefix`) for `conversationFromReturned`. */
export const conversationReturned = (prefix = "") => sql.raw(columns(prefix, "", CONVERSATION_COLUMNS, CONVERSATION_TIMES));

export type Json = Record<string, unknown> | string;
export type Ms = number | string | null;

export function at(value: Ms): Date | null {
  return value === null ? null : new Date(Number(value));
}

export function json<T>(value: unknown): T {
  return (typeof value === "string" ? JSON.parse(value) : value) as T;
}

export interface ContactReturned extends Record<string, unknown> {
  id: string;
  wa_id: string | null;
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

/** control.accounts columns of an AccountRef, as `ACCOUNT_RETURNED` selects them. */
export const ACCOUNT_RETURNED = sql.raw("id, tenant_id, provider, phone_number_id, waba_id, business_id, display_phone_number");

export interface AccountReturned extends Record<string, unknown> {
  id: string;
  tenant_id: string;
  provider: string;
  phone_number_id: string;
  waba_id: string;
  business_id: string;
  display_phone_number: string;
}

export function accountFromReturned(row: AccountReturned): AccountRef {
  return accountFromRow({
    id: row.id,
    tenantId: row.tenant_id,
    provider: row.provider,
    phoneNumberId: row.phone_number_id,
    wabaId: row.waba_id,
    businessId: row.business_id,
    displayPhoneNumber: row.display_phone_number,
  });
}
