import { assertBsuidMayReceive } from "../../domain/outbound/bsuid-recipient.js";
import { DomainError } from "../../domain/errors.js";
import type { InboundEvent } from "../../domain/inbound-events.js";
import {
  assertMarketingAllowed,
  isFreeForm,
  messageTypeOf,
  describeRecipient,
  parseRecipient,
  toGraphMessage,
  validateSendRequest,
  type OutboundContent,
  type SendingAccount,
  type SendRequest,
  type StoredMessage,
} from "../../domain/outbound/index.js";
import { serviceWindowAt } from "../../domain/service-window.js";
import type { OutboundStore, OutboundTransaction } from "../../ports/outbound-store.js";
import type { TemplateStore } from "../../ports/template-store.js";
import { assertTemplateSendable } from "../templates/check-template-send.js";

export interface SendMessageDeps {
  outbound: OutboundStore;
  newId: () => string;
  now: () => Date;
  /**
   * With it, a template send is checked before anything is written: the
   * template exists for the account's WABA, is approved, and the parameters
   * fill it (assertTemplateSendable). Flows that queue through `queueMessage`
   * in their own transaction call assertTemplateSendable first themselves.
   */
  templates?: Pick<TemplateStore, "forSend">;
}

export interface SendMessageResult {
  message: StoredMessage;
  /** The idempotency key named an earlier send; nothing new was queued. */
  duplicate: boolean;
}

/** How long an idempotency key names its first message (SPEC §8). */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * Queues one message: checks it against WhatsApp's rules, then in ONE
 * transaction claims the idempotency key, finds or creates the contact,
 * refuses free-form content outside the 24-hour window, attaches the message
 * to the open conversation (opening one, source `manual`, if there is none),
 * stores the Graph API message object as `queued` and queues its send job.
 * A repeated idempotency key returns the first message instead.
 */
export async function sendMessage(deps: SendMessageDeps, tenantId: string, request: SendRequest): Promise<SendMessageResult> {
  assertSendable(request);
  // Before the send's transaction: its own reads, and nothing is written when it refuses.
  const templateCategory = deps.templates ? await assertTemplateSendable(deps.templates, tenantId, request) : undefined;
  return deps.outbound.inTransaction(tenantId, (tx) => queueMessage(tx, deps, tenantId, request, { templateCategory }));
}

/** Refuses a request WhatsApp would refuse, with every violation by field. */
export function assertSendable(request: SendRequest): void {
  const violations = validateSendRequest(request);
  if (violations.length > 0) throw DomainError.invalid(violations);
}

/**
 * `sendMessage`'s work inside a transaction the caller opened, so other
 * writes (a one-time code, a conversation's context) commit with the
 * message and its job. Call `assertSendable(request)` first.
 */
export async function queueMessage(
  tx: OutboundTransaction,
  deps: Pick<SendMessageDeps, "newId" | "now">,
  tenantId: string,
  request: SendRequest,
  options: { templateCategory?: string } = {},
): Promise<SendMessageResult> {
  const recipient = parseRecipient(request.to);
  if (!recipient) throw DomainError.invalid([{ field: "to", description: "not a possible phone number or business-scoped user id" }]);
  assertBsuidMayReceive(recipient, options.templateCategory);
  const account = await liveAccount(tx, request.accountId);
  const now = deps.now();
  const messageId = deps.newId();
  if (request.idempotencyKey !== "") {
    const firstId = await tx.claimIdempotencyKey(request.idempotencyKey, messageId, now, new Date(now.getTime() + IDEMPOTENCY_WINDOW_MS));
    if (firstId !== messageId) return { message: await existing(tx, firstId), duplicate: true };
  }

  const { contact, created } = await tx.upsertRecipient(recipient, now);
  assertMarketingAllowed(contact, { priority: request.priority, templateCategory: options.templateCategory }, describeRecipient(recipient));
  if (isFreeForm(request.content)) await assertWindowOpen(tx, account.id, contact.id, now);
  const content = await withResolvedReaction(tx, request.content);
  const replyToWamid = request.replyTo === "" ? undefined : await sentWamidOf(tx, request.replyTo, "reply_to_message_id");

  const { conversation, opened } = await tx.findOrOpenConversation(account.id, contact.id, now);
  await tx.insertQueuedMessage({
    id: messageId,
    accountId: account.id,
    conversationId: conversation.id,
    contactId: contact.id,
    recipient,
    type: messageTypeOf(content),
    content: toGraphMessage(content, replyToWamid),
    replyToMessageId: request.replyTo || undefined,
    priority: request.priority,
    idempotencyKey: request.idempotencyKey || undefined,
    metadata: request.metadata,
  });
  const counted = await tx.countOutboundMessage(conversation.id, now);

  const { status: _status, ...ref } = account;
  const header = () => ({ eventId: deps.newId(), account: ref, occurredAt: now });
  const events: InboundEvent[] = [];
  if (created) events.push({ ...header(), kind: "contact.created", contact, messageId, conversationId: conversation.id });
  if (opened) events.push({ ...header(), kind: "conversation.opened", conversation: counted, contact, messageId });
  await tx.appendEvents(events);
  return { message: await existing(tx, messageId), duplicate: false };
}

async function liveAccount(tx: OutboundTransaction, accountId: string): Promise<SendingAccount> {
  const account = await tx.account(accountId);
  if (!account) throw DomainError.notFound("account", accountId);
  if (account.status === "disabled") {
    throw new DomainError("failed_precondition", "ACCOUNT_DISABLED", `account ${accountId} is disabled; enable it to send`);
  }
  return account;
}

async function existing(tx: OutboundTransaction, messageId: string): Promise<StoredMessage> {
  const message = await tx.message(messageId);
  if (!message) throw new DomainError("internal", "MESSAGE_MISSING", "internal error", { cause: new Error(`message ${messageId} vanished`) });
  return message;
}

export async function assertWindowOpen(tx: OutboundTransaction, accountId: string, contactId: string, now: Date): Promise<void> {
  const window = serviceWindowAt(await tx.lastInboundTime(accountId, contactId), now);
  if (window.open) return;
  const since = window.expireTime ? `closed since ${window.expireTime.toISOString()}` : "not open: the contact has never written to this number";
  throw new DomainError(
    "failed_precondition",
    "OUTSIDE_SERVICE_WINDOW",
    `the 24-hour customer-service window is ${since}; only template messages can be sent outside it — use a template`,
  );
}

/** A reaction names its target by our id or wamid; WhatsApp needs the wamid. */
async function withResolvedReaction(tx: OutboundTransaction, content: OutboundContent): Promise<OutboundContent> {
  if (content.kind !== "reaction") return content;
  return { ...content, messageRef: await sentWamidOf(tx, content.messageRef, "reaction.message_id") };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The wamid of a message the caller points at. Our own ids must name a
 * message of this tenant that WhatsApp has accepted (it has a wamid); any
 * other value is taken as a wamid, known here or not (it may predate us).
 */
async function sentWamidOf(tx: OutboundTransaction, reference: string, field: string): Promise<string> {
  const found = await tx.findMessage(reference);
  if (found?.wamid) return found.wamid;
  if (!UUID.test(reference)) return reference;
  if (!found) throw DomainError.invalid([{ field, description: `no message ${reference}` }]);
  throw new DomainError(
    "failed_precondition",
    "MESSAGE_NOT_SENT_YET",
    `${field}: message ${reference} has no WhatsApp id yet (not accepted by WhatsApp); try again once it is sent`,
  );
}
