import { DomainError } from "../../domain/errors.js";
import { decodePageToken, encodePageToken, pageSizeOf } from "../../domain/conversations/page-token.js";
import type { ConversationSource, ConversationStatus } from "../../domain/inbound-events.js";
import type { ConversationFilter, ConversationStore } from "../../ports/conversation-store.js";
import { viewOf, waIdOfPhone, type ConversationView, type Page } from "./views.js";

export interface ReadDeps {
  conversations: ConversationStore;
  now: () => Date;
}

export interface ListConversationsQuery {
  pageSize: number;
  pageToken: string;
  accountId: string | undefined;
  status: ConversationStatus | undefined;
  contactPhone: string | undefined;
  contactUserId?: string;
  contactUsername?: string;
  contactId: string | undefined;
  minUpdateTime: Date | undefined;
  windowOpen: boolean | undefined;
  source: ConversationSource | undefined;
}

/**
 * Newest first by (create_time, id): keys that never change, so a walk
 * through the pages sees every conversation that existed when it began
 * exactly once, however many messages arrive meanwhile (ordering by
 * update_time would make conversations jump between pages). The token is
 * bound to the filters it was made with.
 */
export async function listConversations(deps: ReadDeps, tenantId: string, query: ListConversationsQuery): Promise<Page<ConversationView>> {
  const filter: ConversationFilter = {};
  if (query.accountId !== undefined) filter.accountId = query.accountId;
  if (query.status !== undefined) filter.status = query.status;
  if (query.contactPhone !== undefined) filter.contactWaId = waIdOfPhone(query.contactPhone);
  if (query.contactUserId) filter.contactBsuid = query.contactUserId;
  if (query.contactUsername) filter.contactUsername = query.contactUsername;
  if (query.contactId !== undefined) filter.contactId = query.contactId;
  if (query.minUpdateTime !== undefined) filter.minUpdateTime = query.minUpdateTime;
  if (query.windowOpen !== undefined) filter.windowOpen = query.windowOpen;
  if (query.source !== undefined) filter.source = query.source;
  const scope = `conversations|${JSON.stringify({ ...filter, minUpdateTime: filter.minUpdateTime?.toISOString() })}`;
  const after = decodePageToken(query.pageToken, scope);
  const limit = pageSizeOf(query.pageSize);
  const now = deps.now();
  const rows = await deps.conversations.listConversations(tenantId, { filter, after, limit: limit + 1, now });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map((r) => viewOf(r.item, now)),
    nextPageToken: rows.length > limit && last ? encodePageToken(last.key, scope) : "",
  };
}

export async function getConversation(deps: ReadDeps, tenantId: string, conversationId: string): Promise<ConversationView> {
  const record = await deps.conversations.getConversation(tenantId, conversationId);
  if (!record) throw DomainError.notFound("conversation", conversationId);
  return viewOf(record, deps.now());
}
