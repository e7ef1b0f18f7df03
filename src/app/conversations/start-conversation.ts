import { DomainError } from "../../domain/errors.js";
import { assertMarketingAllowed, describeRecipient, parseRecipient, type StoredMessage, type TemplateContent } from "../../domain/outbound/index.js";
import type { SendPriority } from "../../domain/priority.js";
import type { ConversationOpening, ConversationStore } from "../../ports/conversation-store.js";
import type { TemplateStore } from "../../ports/template-store.js";
import { assertSendable, IDEMPOTENCY_WINDOW_MS, queueMessage } from "../messaging/send-message.js";
import { assertTemplateSendable } from "../templates/check-template-send.js";
import { viewOf, type ConversationView } from "./views.js";

export interface StartConversationDeps {
  conversations: ConversationStore;
  newId: () => string;
  now: () => Date;
  /** With it, the template is checked like SendMessage checks it (exists, approved, parameters) before anything is written. */
  templates?: Pick<TemplateStore, "forSend">;
}

export interface StartConversationRequest {
  /** "" for none. */
  requestId: string;
  accountId: string;
  /** A phone number (E.164) or a business-scoped user id (ADR 0007). */
  phone: string;
  template: TemplateContent;
  context: string;
  externalRefs: Record<string, string>;
  metadata: Record<string, string>;
  source: ConversationOpening["source"];
  priority: SendPriority;
}

export interface StartConversationResult {
  conversation: ConversationView;
  message: StoredMessage;
  /** The request id named an earlier start: nothing new was queued. */
  duplicate: boolean;
}

/**
 * A business-initiated conversation (e.g. after a phone call), in ONE tenant
 * transaction: claim the request id, then the normal send path
 * (`queueMessage`) with the conversation opened as `source` with the
 * context, refs and metadata — or, when the contact already has an open
 * conversation with the account, that one, given the new context and
 * merged refs and metadata — and the template queued with its send job.
 * Events (contact.created, conversation.opened) commit with it.
 *
 * Marketing to a contact who opted out is refused (FailedPrecondition
 * CONTACT_OPTED_OUT, domain/outbound/marketing-opt-out.ts).
 */
export async function startConversation(deps: StartConversationDeps, tenantId: string, request: StartConversationRequest): Promise<StartConversationResult> {
  const sendRequest = {
    accountId: request.accountId,
    to: request.phone,
    content: request.template,
    replyTo: "",
    idempotencyKey: "",
    priority: request.priority,
    metadata: request.metadata,
  };
  assertSendable(sendRequest);
  const templateCategory = deps.templates ? await assertTemplateSendable(deps.templates, tenantId, sendRequest) : undefined;
  const recipient = parseRecipient(request.phone);
  if (!recipient) throw DomainError.invalid([{ field: "phone", description: "not a possible phone number or business-scoped user id" }]);
  const opening: ConversationOpening = { source: request.source, context: request.context, externalRefs: request.externalRefs, metadata: request.metadata };
  const now = deps.now();

  const result = await deps.conversations.inStartTransaction(tenantId, opening, async (tx) => {
    // Before the request id is claimed: a tenant without this account (or without any) gets NotFound, not a missing table.
    if (!(await tx.account(request.accountId))) throw DomainError.notFound("account", request.accountId);
    let messageId: string | undefined;
    if (request.requestId !== "") {
      const provisional = deps.newId();
      const first = await tx.claimRequest(request.requestId, provisional, now, new Date(now.getTime() + IDEMPOTENCY_WINDOW_MS));
      if (first !== provisional) messageId = first;
    }
    const duplicate = messageId !== undefined;
    if (messageId === undefined) {
      // A BSUID recipient's opt-out is checked by queueMessage on the contact it finds.
      const known = recipient.bsuid === undefined ? await tx.contactByWaId(recipient.waId) : undefined;
      // The template's category is read here only when it can matter.
      if (known?.optedOut) {
        const category = await tx.templateCategory(request.accountId, request.template.name, request.template.language);
        assertMarketingAllowed(known, { priority: request.priority, templateCategory: category }, describeRecipient(recipient));
      }
      messageId = (await queueMessage(tx, deps, tenantId, sendRequest, { templateCategory })).message.id;
      if (request.requestId !== "") await tx.bindRequest(request.requestId, messageId);
    }
    const message = await tx.message(messageId);
    const record = message?.conversationId === undefined ? undefined : await tx.conversation(message.conversationId);
    if (!message || !record) {
      throw new DomainError("internal", "START_RESULT_MISSING", "internal error", { cause: new Error(`message ${messageId} or its conversation vanished`) });
    }
    return { message, record, duplicate };
  });
  return { conversation: viewOf(result.record, deps.now()), message: result.message, duplicate: result.duplicate };
}
