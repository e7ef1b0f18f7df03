/**
 * What the webhook processing reports to listeners (SPEC §7), as plain domain
 * values: the outbox adapter turns each into its protobuf event and writes it
 * in the transaction that made the change.
 */
import type { Provider } from "./account.js";
import type { InboundMessage, Pricing, ProviderConversation, ProviderError } from "./inbound.js";
import type { DeliveryStatus, MessageStatus } from "./message-status.js";

/** The account (business number) a change belongs to, as events need it. */
export interface AccountRef {
  id: string;
  tenantId: string;
  provider: Provider;
  phoneNumberId: string;
  wabaId: string;
  businessId: string;
  /** E.164. */
  displayPhoneNumber: string;
}

/** A contact as stored. */
export interface ContactSnapshot {
  id: string;
  waId: string;
  /** E.164, or "" when the WhatsApp id is not a number. */
  phone: string;
  profileName: string;
  userId: string;
  parentUserId: string;
  username: string;
  optedOut: boolean;
  firstSeenTime: Date;
  lastSeenTime: Date;
}

export type ConversationStatus = "active" | "escalated" | "closed";
export type ConversationSource = "inbound" | "post_call" | "manual";

/** A conversation as stored. */
export interface ConversationSnapshot {
  id: string;
  accountId: string;
  contactId: string;
  status: ConversationStatus;
  source: ConversationSource | undefined;
  context: string;
  summary: string;
  externalRefs: Record<string, string>;
  metadata: Record<string, string>;
  messageCount: number;
  inboundMessageCount: number;
  outboundMessageCount: number;
  lastInboundTime: Date | undefined;
  lastOutboundTime: Date | undefined;
  createTime: Date;
  updateTime: Date;
  closeTime: Date | undefined;
}

/** An outbound message as stored, locked for a status change. */
export interface OutboundMessageSnapshot {
  id: string;
  wamid: string;
  accountId: string;
  conversationId: string | undefined;
  contactId: string;
  /** The recipient, E.164. */
  contactPhone: string;
  direction: "inbound" | "outbound";
  /** Message type as stored (`text`, `template`, `image`…). */
  type: string;
  status: MessageStatus;
  /** The message as text, for listeners. */
  displayText: string;
  metadata: Record<string, string>;
  /** Send attempts made, when the reader knows them (a failure reports them). */
  attemptCount?: number;
  /** The caller's idempotency key of the send, when the reader knows it. */
  idempotencyKey?: string;
}

interface EventHeader {
  /** UUID; becomes the JetStream Nats-Msg-Id. */
  eventId: string;
  account: AccountRef;
  occurredAt: Date;
}

export interface ContactCreated extends EventHeader {
  kind: "contact.created";
  contact: ContactSnapshot;
  messageId: string;
  conversationId: string;
}

export interface ConversationOpened extends EventHeader {
  kind: "conversation.opened";
  conversation: ConversationSnapshot;
  contact: ContactSnapshot;
  messageId: string;
}

export interface MessageReceived extends EventHeader {
  kind: "message.received";
  messageId: string;
  conversationId: string;
  message: InboundMessage;
  contact: ContactSnapshot;
}

export interface MessageStatusChanged extends EventHeader {
  kind: "message.status";
  message: OutboundMessageSnapshot;
  status: DeliveryStatus;
  previousStatus: MessageStatus;
  statusTime: Date;
  error: ProviderError | undefined;
  pricing: Pricing | undefined;
  providerConversation: ProviderConversation | undefined;
}

export type InboundEvent = ContactCreated | ConversationOpened | MessageReceived | MessageStatusChanged;
