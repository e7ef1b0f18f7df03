import { DomainError } from "../../domain/errors.js";
import { decodePageToken, encodePageToken, pageSizeOf } from "../../domain/conversations/page-token.js";
import type { ContactSnapshot } from "../../domain/inbound-events.js";
import type { ContactFilter, ConversationStore } from "../../ports/conversation-store.js";
import { waIdOfPhone, type Page } from "./views.js";

export async function getContact(deps: { conversations: ConversationStore }, tenantId: string, contactId: string): Promise<ContactSnapshot> {
  const contact = await deps.conversations.getContact(tenantId, contactId);
  if (!contact) throw DomainError.notFound("contact", contactId);
  return contact;
}

export interface ListContactsQuery {
  pageSize: number;
  pageToken: string;
  phone: string | undefined;
  profileName: string | undefined;
  userId?: string;
  parentUserId?: string;
  username?: string;
  optedOut: boolean | undefined;
  minLastSeenTime: Date | undefined;
}

/** Newest first by (create_time, id) — stable while contacts write in (last_seen_time moves, these keys do not). */
export async function listContacts(deps: { conversations: ConversationStore }, tenantId: string, query: ListContactsQuery): Promise<Page<ContactSnapshot>> {
  const filter: ContactFilter = {};
  if (query.phone !== undefined) filter.waId = waIdOfPhone(query.phone);
  if (query.userId) filter.bsuid = query.userId;
  if (query.parentUserId) filter.parentBsuid = query.parentUserId;
  if (query.username) filter.username = query.username;
  if (query.profileName !== undefined && query.profileName !== "") filter.profileName = query.profileName;
  if (query.optedOut !== undefined) filter.optedOut = query.optedOut;
  if (query.minLastSeenTime !== undefined) filter.minLastSeenTime = query.minLastSeenTime;
  const scope = `contacts|${JSON.stringify({ ...filter, minLastSeenTime: filter.minLastSeenTime?.toISOString() })}`;
  const after = decodePageToken(query.pageToken, scope);
  const limit = pageSizeOf(query.pageSize);
  const rows = await deps.conversations.listContacts(tenantId, { filter, after, limit: limit + 1 });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map((r) => r.item), nextPageToken: rows.length > limit && last ? encodePageToken(last.key, scope) : "" };
}
