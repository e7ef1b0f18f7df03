import { DomainError } from "../../domain/errors.js";
import { planConversationUpdate, type ConversationChange } from "../../domain/conversations/conversation-update.js";
import type { ConversationStore } from "../../ports/conversation-store.js";
import { viewOf, type ConversationView } from "./views.js";

export interface UpdateConversationDeps {
  conversations: ConversationStore;
  newId: () => string;
  now: () => Date;
}

/**
 * UpdateConversation in one tenant transaction: lock the conversation,
 * apply the rules (domain/conversations/conversation-update.ts), write, and
 * — when this change closes it — the conversation.closed event (reason API)
 * with it. Closing an already closed conversation changes nothing and
 * publishes nothing.
 */
export async function updateConversation(deps: UpdateConversationDeps, tenantId: string, conversationId: string, change: ConversationChange): Promise<ConversationView> {
  const now = deps.now();
  const record = await deps.conversations.inTransaction(tenantId, async (tx) => {
    const current = await tx.lockConversation(conversationId);
    if (!current) throw DomainError.notFound("conversation", conversationId);
    const plan = planConversationUpdate(current.conversation, change, now);
    if (Object.keys(plan.set).length === 0) return current;
    const conversation = await tx.applyUpdate(conversationId, plan.set);
    if (plan.closes) {
      const account = await tx.accountRef(conversation.accountId);
      if (!account) throw new Error(`account ${conversation.accountId} of conversation ${conversationId} is missing`);
      await tx.appendClosed({ kind: "conversation.closed", eventId: deps.newId(), account, occurredAt: now, conversation, contact: current.contact, reason: "api" });
    }
    return { ...current, conversation };
  });
  return viewOf(record, now);
}
