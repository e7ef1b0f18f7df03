/**
 * Rows of the tenant tables ↔ the domain values webhook processing works
 * with. JSON columns hold domain objects serialised with JSON.stringify
 * (Dates become ISO strings); reading them back revives those dates.
 */
import { waIdToE164, type InboundMessage, type StatusUpdate } from "../../../domain/inbound.js";
import type { AccountRef, ContactSnapshot, ConversationSnapshot, ConversationSource, ConversationStatus } from "../../../domain/inbound-events.js";
import type { Provider } from "../../../domain/account.js";
import type { accounts, contacts, conversations } from "../schema/index.js";

export function contactFromRow(row: typeof contacts.$inferSelect): ContactSnapshot {
  return {
    id: row.id,
    waId: row.waId ?? "",
    phone: row.phoneE164 ?? waIdToE164(row.waId ?? ""),
    profileName: row.profileName ?? "",
    userId: row.bsuid ?? "",
    parentUserId: row.parentBsuid ?? "",
    username: row.username ?? "",
    optedOut: row.optedOut,
    firstSeenTime: row.firstSeenTime,
    lastSeenTime: row.lastSeenTime,
  };
}

const SOURCES: readonly string[] = ["inbound", "post_call", "manual"] satisfies ConversationSource[];

export function conversationFromRow(row: typeof conversations.$inferSelect): ConversationSnapshot {
  return {
    id: row.id,
    accountId: row.accountId,
    contactId: row.contactId,
    status: row.status as ConversationStatus,
    source: row.source !== null && SOURCES.includes(row.source) ? (row.source as ConversationSource) : undefined,
    context: row.context ?? "",
    summary: row.summary ?? "",
    externalRefs: { ...row.externalRefs },
    metadata: { ...row.metadata },
    messageCount: row.messageCount,
    inboundMessageCount: row.inboundMessageCount,
    outboundMessageCount: row.outboundMessageCount,
    lastInboundTime: row.lastInboundTime ?? undefined,
    lastOutboundTime: row.lastOutboundTime ?? undefined,
    createTime: row.createTime,
    updateTime: row.updateTime,
    closeTime: row.closeTime ?? undefined,
  };
}

export function accountFromRow(row: Pick<typeof accounts.$inferSelect, AccountRefColumn>): AccountRef {
  return {
    id: row.id,
    tenantId: row.tenantId,
    provider: row.provider as Provider,
    phoneNumberId: row.phoneNumberId,
    wabaId: row.wabaId,
    businessId: row.businessId,
    displayPhoneNumber: row.displayPhoneNumber,
  };
}

export type AccountRefColumn = "id" | "tenantId" | "provider" | "phoneNumberId" | "wabaId" | "businessId" | "displayPhoneNumber";

/** messages.content of an inbound message: the normalised message; the raw object goes to its own column. */
export function inboundContent(message: InboundMessage): unknown {
  const { raw: _raw, ...normalised } = message;
  return normalised;
}

/** A StatusUpdate kept in pending_statuses.update, with its dates revived. */
export function statusUpdateFromJson(json: unknown, raw: unknown): StatusUpdate {
  const stored = json as Omit<StatusUpdate, "timestamp" | "conversation"> & {
    timestamp: string;
    conversation?: { id: string; expireTime?: string; originType?: string };
  };
  return {
    ...stored,
    timestamp: new Date(stored.timestamp),
    conversation: stored.conversation && {
      ...stored.conversation,
      expireTime: stored.conversation.expireTime === undefined ? undefined : new Date(stored.conversation.expireTime),
    },
    raw,
  };
}

/** The message as one line for status events, from whatever the sending work stored as content. */
export function displayTextOf(content: unknown): string {
  if (content === null || typeof content !== "object") return "";
  const c = content as Record<string, unknown>;
  for (const candidate of [c.text, c.displayText, c.body, c.caption, c.emoji]) {
    if (typeof candidate === "string" && candidate !== "") return candidate;
    if (candidate !== null && typeof candidate === "object") {
      const body = (candidate as Record<string, unknown>).body;
      if (typeof body === "string" && body !== "") return body;
    }
  }
  const template = c.template;
  if (template !== null && typeof template === "object") {
    const name = (template as Record<string, unknown>).name;
    if (typeof name === "string") return `[template ${name}]`;
  }
  return "";
}
