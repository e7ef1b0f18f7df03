import type { ConversationSnapshot, InboundEvent } from "../domain/inbound-events.js";
import type {
  AccountQueueStats,
  ConversationForSend,
  GraphMessage,
  Recipient,
  RecipientContact,
  SendingAccount,
  StoredMessage,
} from "../domain/outbound/index.js";
import type { SendPriority } from "../domain/priority.js";

/**
 * Storage of the send path. `inTransaction` runs one tenant-scoped
 * transaction: the message row, its send job and its events commit together
 * or not at all (SPEC §5). Everything is scoped to the tenant: another
 * tenant's ids are not found.
 */
export interface OutboundStore {
  inTransaction<T>(tenantId: string, work: (tx: OutboundTransaction) => Promise<T>): Promise<T>;
  /** The message (either direction), or undefined — also when the tenant has no data at all. */
  getMessage(tenantId: string, messageId: string): Promise<StoredMessage | undefined>;
  listFailedMessages(tenantId: string, query: FailedMessagesQuery): Promise<FailedMessagesPage>;
  /** Counters per live account of the tenant (one account with `accountId`; empty when it is not the tenant's). */
  queueStats(tenantId: string, accountId: string | undefined, now: Date): Promise<AccountQueueStats[]>;
  /** Records an inbound message, and the earlier unread inbound messages of its conversation, as read at `at`. */
  recordRead(tenantId: string, messageId: string, at: Date): Promise<void>;
}

export interface FailedMessagesQuery {
  pageSize: number;
  /** Opaque cursor from a previous page; "" for the first. */
  pageToken: string;
  accountId: string | undefined;
  minFailTime: Date | undefined;
}

export interface FailedMessagesPage {
  messages: StoredMessage[];
  nextPageToken: string;
}

export interface NewOutboundMessage {
  id: string;
  accountId: string;
  conversationId: string;
  contactId: string;
  recipient: Recipient;
  /** `text`, `image`, `template`… */
  type: string;
  /** The Graph API message object to send. */
  content: GraphMessage;
  replyToMessageId: string | undefined;
  priority: SendPriority;
  idempotencyKey: string | undefined;
  metadata: Record<string, string>;
}

/** A message a reply or reaction points at. */
export interface MessageReference {
  id: string;
  wamid: string | undefined;
}

/** One tenant's tables inside the send transaction. */
export interface OutboundTransaction {
  /** The live account of this tenant, or undefined. */
  account(accountId: string): Promise<SendingAccount | undefined>;
  /**
   * Claims an idempotency key for `messageId` until `expireTime`. Returns the
   * message id the key names: `messageId` when this call claimed it (new, or
   * taken over after expiry), else the first message's id. A concurrent
   * claim of the same key waits for the first transaction to finish.
   */
  claimIdempotencyKey(key: string, messageId: string, now: Date, expireTime: Date): Promise<string>;
  /** Creates the contact for this WhatsApp id, or returns the existing one. */
  upsertRecipient(recipient: Recipient, at: Date): Promise<RecipientContact>;
  /** The user's last message to this account (across all conversations), which opens the 24-hour window. */
  lastInboundTime(accountId: string, contactId: string): Promise<Date | undefined>;
  /** A message of this tenant by our id (UUID) or by wamid. */
  findMessage(reference: string): Promise<MessageReference | undefined>;
  /** The open conversation of the account with the contact, or a new one with source `manual`. */
  findOrOpenConversation(accountId: string, contactId: string, at: Date): Promise<ConversationForSend>;
  /** Stores a new outbound message as `queued` with its `send_message` job (control.jobs), in this transaction. */
  insertQueuedMessage(message: NewOutboundMessage): Promise<void>;
  /** Counts an outbound message on its conversation (counts, last outbound time). */
  countOutboundMessage(conversationId: string, at: Date): Promise<ConversationSnapshot>;
  /** Queues a `send_message` job for an existing message again (RetryMessage), in this transaction. */
  enqueueSend(job: { messageId: string; accountId: string; tenantId: string; priority: SendPriority }): Promise<void>;
  /** The message, locked for update (RetryMessage), or undefined. */
  lockMessage(messageId: string): Promise<StoredMessage | undefined>;
  /** Puts a failed message back in the queue: status queued, attempts 0, error and provider id cleared. */
  requeueMessage(messageId: string): Promise<void>;
  message(messageId: string): Promise<StoredMessage | undefined>;
  appendEvents(events: readonly InboundEvent[]): Promise<void>;
}

