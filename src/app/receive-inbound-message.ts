import { opensServiceWindow, type ContactProfile, type InboundMessage, type MessagingChange } from "../domain/inbound.js";
import type { InboundReactions } from "./inbound-reactions.js";
import type { AccountRef, ContactSnapshot, InboundEvent } from "../domain/inbound-events.js";
import { numberChange } from "../domain/contact-identity.js";
import type { StoredInboundMessage, TenantInboundStore } from "../ports/inbound-store.js";

export interface InboundDeps {
  newId: () => string;
  now: () => Date;
  /** What follows newly stored messages and updates, in their transaction (app/inbound-reactions.ts); none by default. */
  reactions?: InboundReactions;
}

export type ReceiveResult = { stored: true; events: InboundEvent[]; inbound: StoredInboundMessage } | { stored: false; events: [] };

/**
 * Stores one inbound message once per wamid: contact (created or refreshed),
 * its open conversation (or a new one), the message, the conversation's
 * counts and 24-hour window. Only a message actually inserted produces
 * events — contact.created and conversation.opened when those are new, then
 * message.received — so a repeated delivery changes nothing visible.
 */
export async function receiveInboundMessage(
  tenant: TenantInboundStore,
  account: AccountRef,
  change: MessagingChange,
  message: InboundMessage,
  deps: InboundDeps,
): Promise<ReceiveResult> {
  // Checked first so a duplicate of a message whose conversation has since
  // been closed does not open a new, empty conversation.
  if ((await tenant.messageIdByWamid(message.wamid)) !== undefined) return { stored: false, events: [] };

  const now = deps.now();
  const upserted = await tenant.upsertContact(senderProfile(change, message), message.timestamp);
  const { created } = upserted;
  const contact = await afterNumberChange(tenant, upserted.contact, message);
  const { conversation, opened } = await tenant.findOrOpenConversation(account.id, contact.id, now);
  const normalised = await withResolvedReferences(tenant, { ...message, to: message.to || account.displayPhoneNumber });
  const messageId = deps.newId();
  const inserted = await tenant.insertInboundMessage({
    id: messageId,
    accountId: account.id,
    conversationId: conversation.id,
    contactId: contact.id,
    message: normalised,
  });
  // Another transaction stored the same wamid between our check and insert:
  // it reports the message; nothing here was new (the contact and the
  // conversation were serialised behind that transaction too).
  if (!inserted) return { stored: false, events: [] };

  const counted = await tenant.countInboundMessage(conversation.id, opensServiceWindow(message) ? message.timestamp : undefined);
  const header = (kind: InboundEvent["kind"]) => ({ kind, eventId: deps.newId(), account, occurredAt: now });
  const events: InboundEvent[] = [];
  if (created) events.push({ ...header("contact.created"), kind: "contact.created", contact, messageId, conversationId: conversation.id });
  if (opened) events.push({ ...header("conversation.opened"), kind: "conversation.opened", conversation: counted, contact, messageId });
  events.push({ ...header("message.received"), kind: "message.received", messageId, conversationId: conversation.id, message: normalised, contact });
  return { stored: true, events, inbound: { account, messageId, conversationId: conversation.id, contact, message: normalised } };
}

/**
 * A number-change notice (`user_changed_number`) moves the contact to its new
 * identifiers, keeping its history (contact-identity.ts). Done before the
 * message is stored: the notice is the last thing said under the old number.
 */
export async function afterNumberChange(tenant: TenantInboundStore, contact: ContactSnapshot, message: InboundMessage): Promise<ContactSnapshot> {
  const to = numberChange(message);
  return to ? tenant.relinkContact(contact.id, to, message.timestamp) : contact;
}

/** The sender's profile from the change's contacts (matched by WhatsApp id, then by user id). */
export function senderProfile(change: MessagingChange, message: InboundMessage): ContactProfile {
  // Either identifier may be missing on either side (a username adopter has no wa id, ADR 0007).
  const byWaId = message.waId === "" ? undefined : change.contacts.find((c) => c.waId === message.waId);
  if (byWaId) return { ...byWaId, userId: byWaId.userId ?? message.fromUserId };
  const byUserId = message.fromUserId ? change.contacts.find((c) => c.userId === message.fromUserId) : undefined;
  if (byUserId) return { ...byUserId, waId: message.waId || byUserId.waId };
  return message.fromUserId ? { waId: message.waId, userId: message.fromUserId } : { waId: message.waId };
}

/** Fills the ids in this service of the message replied or reacted to, when it is stored here. */
async function withResolvedReferences(tenant: TenantInboundStore, message: InboundMessage): Promise<InboundMessage> {
  let resolved = message;
  const repliedTo = message.context?.repliedToWamid;
  if (message.context && repliedTo) {
    const id = await tenant.messageIdByWamid(repliedTo);
    if (id) resolved = { ...resolved, context: { ...message.context, repliedToMessageId: id } };
  }
  const content = message.content;
  if (content?.kind === "reaction" && content.reaction.reactedToWamid !== "") {
    const id = await tenant.messageIdByWamid(content.reaction.reactedToWamid);
    if (id) resolved = { ...resolved, content: { kind: "reaction", reaction: { ...content.reaction, reactedToMessageId: id } } };
  }
  return resolved;
}

/** The wamids a message replies or reacts to. */
export function referencedWamids(message: InboundMessage): string[] {
  const wamids: string[] = [];
  if (message.context?.repliedToWamid) wamids.push(message.context.repliedToWamid);
  if (message.content?.kind === "reaction" && message.content.reaction.reactedToWamid !== "") wamids.push(message.content.reaction.reactedToWamid);
  return wamids;
}

/** `withResolvedReferences` with the stored ids looked up already (wamid → message id). */
export function withReferencesFrom(known: ReadonlyMap<string, string>, message: InboundMessage): InboundMessage {
  let resolved = message;
  const repliedTo = message.context?.repliedToWamid;
  if (message.context && repliedTo) {
    const id = known.get(repliedTo);
    if (id) resolved = { ...resolved, context: { ...message.context, repliedToMessageId: id } };
  }
  const content = message.content;
  if (content?.kind === "reaction" && content.reaction.reactedToWamid !== "") {
    const id = known.get(content.reaction.reactedToWamid);
    if (id) resolved = { ...resolved, content: { kind: "reaction", reaction: { ...content.reaction, reactedToMessageId: id } } };
  }
  return resolved;
}
