import { DomainError } from "../../domain/errors.js";
import { decodePageToken, encodePageToken, pageSizeOf } from "../../domain/conversations/page-token.js";
import type { StoredMessage } from "../../domain/outbound/index.js";
import type { ConversationStore, MessageOrder } from "../../ports/conversation-store.js";
import type { Page } from "./views.js";

export interface ListMessagesQuery {
  conversationId: string;
  pageSize: number;
  pageToken: string;
  order: MessageOrder;
  direction: "inbound" | "outbound" | undefined;
}

/**
 * The messages of one conversation, both directions, by (create_time, id)
 * in the order asked. Rows never move in that order, so a walk neither
 * repeats nor skips a message that existed when it began; messages that
 * arrive meanwhile come after the last page (oldest first) or before the
 * first (newest first). The token is bound to the conversation, order and
 * direction it was made with.
 */
export async function listMessages(deps: { conversations: ConversationStore }, tenantId: string, query: ListMessagesQuery): Promise<Page<StoredMessage>> {
  const scope = `messages|${query.conversationId}|${query.order}|${query.direction ?? "both"}`;
  const after = decodePageToken(query.pageToken, scope);
  const limit = pageSizeOf(query.pageSize);
  const rows = await deps.conversations.listMessages(tenantId, { conversationId: query.conversationId, order: query.order, direction: query.direction, after, limit: limit + 1 });
  if (!rows) throw DomainError.notFound("conversation", query.conversationId);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map((r) => r.item), nextPageToken: rows.length > limit && last ? encodePageToken(last.key, scope) : "" };
}
