import { opensServiceWindow, type InboundMessage, type MessagingChange } from "../domain/inbound.js";
import type { AccountRef, InboundEvent } from "../domain/inbound-events.js";
import type { TenantInboundStore } from "../ports/inbound-store.js";
import { numberChange, senderKeys } from "../domain/contact-identity.js";
import { referencedWamids, senderProfile, withReferencesFrom, type InboundDeps, type ReceiveResult } from "./receive-inbound-message.js";

/** One inbound message to store, with the change and the account it came through. */
export interface InboundMessageItem {
  account: AccountRef;
  change: MessagingChange;
  message: InboundMessage;
}

/**
 * `receiveInboundMessage` for many messages at once, set-wise: one look-up
 * of known wamids, one contact upsert, one conversation find-or-open, one
 * message insert and one counter update for all of them — a handful of
 * statements however many messages, instead of a handful per message.
 *
 * Gives exactly what calling `receiveInboundMessage` on each item in order
 * would, PROVIDED the items are independent (see `independentOf`): no two
 * share a sender or a wamid, and none replies or reacts to another. The
 * caller keeps that (the inbox worker applies such sets one after another).
 * Results are in item order.
 */
export async function receiveInboundMessages(
  tenant: TenantInboundStore,
  items: readonly InboundMessageItem[],
  deps: InboundDeps,
): Promise<ReceiveResult[]> {
  const results: ReceiveResult[] = items.map(() => ({ stored: false, events: [] }));
  if (items.length === 0) return results;
  // Checked first, like one by one: a duplicate must not open a conversation.
  const known = await tenant.messageIdsByWamids([...new Set(items.flatMap((i) => [i.message.wamid, ...referencedWamids(i.message)]))]);
  const fresh = items.map((item, index) => ({ item, index })).filter(({ item }) => !known.has(item.message.wamid));
  if (fresh.length === 0) return results;

  const now = deps.now();
  const contacts = await tenant.upsertContacts(fresh.map(({ item }) => ({ profile: senderProfile(item.change, item.message), seenAt: item.message.timestamp })));
  const conversations = await tenant.findOrOpenConversations(
    fresh.map(({ item }, i) => ({ accountId: item.account.id, contactId: contacts[i]!.contact.id })),
    now,
  );
  const stored = fresh.map(({ item, index }, i) => ({
    index,
    item,
    contact: contacts[i]!,
    conversation: conversations[i]!,
    messageId: deps.newId(),
    normalised: withReferencesFrom(known, { ...item.message, to: item.message.to || item.account.displayPhoneNumber }),
  }));
  const inserted = await tenant.insertInboundMessages(
    stored.map((s) => ({
      id: s.messageId,
      accountId: s.item.account.id,
      conversationId: s.conversation.conversation.id,
      contactId: s.contact.contact.id,
      message: s.normalised,
    })),
  );
  // Another transaction stored some of these wamids meanwhile: it reports them.
  const kept = stored.filter((s) => inserted.has(s.messageId));
  const counted = await tenant.countInboundMessages(
    kept.map((s) => ({
      conversationId: s.conversation.conversation.id,
      windowFrom: opensServiceWindow(s.item.message) ? s.item.message.timestamp : undefined,
    })),
  );

  for (const s of kept) {
    const { account } = s.item;
    const { contact, created } = s.contact;
    const { conversation, opened } = s.conversation;
    const header = (kind: InboundEvent["kind"]) => ({ kind, eventId: deps.newId(), account, occurredAt: now });
    const events: InboundEvent[] = [];
    const messageId = s.messageId;
    if (created) events.push({ ...header("contact.created"), kind: "contact.created", contact, messageId, conversationId: conversation.id });
    if (opened) {
      const after = counted.get(conversation.id);
      if (!after) throw new Error(`conversation ${conversation.id} vanished`);
      events.push({ ...header("conversation.opened"), kind: "conversation.opened", conversation: after, contact, messageId });
    }
    events.push({
      ...header("message.received"),
      kind: "message.received",
      messageId,
      conversationId: conversation.id,
      message: s.normalised,
      contact,
    });
    results[s.index] = { stored: true, events, inbound: { account, messageId, conversationId: conversation.id, contact, message: s.normalised } };
  }
  return results;
}

/**
 * Whether `item` can join `set` in one `receiveInboundMessages` call: no
 * shared sender or wamid, and no reply or reaction between them (the one by
 * one order would let it see the other stored).
 */
export function independentOf(set: { waIds: ReadonlySet<string>; wamids: ReadonlySet<string> }, message: InboundMessage): boolean {
  // `waIds` holds sender keys (senderKeys: wa id and BSUID): either shared means the same user.
  if (senderKeys(message).some((key) => set.waIds.has(key)) || set.wamids.has(message.wamid)) return false;
  // A number change re-links contacts: never set-wise.
  if (numberChange(message)) return false;
  return referencedWamids(message).every((wamid) => !set.wamids.has(wamid));
}
