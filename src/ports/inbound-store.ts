import type { DomainEvent } from "../domain/events.js";
import type { Provider } from "../domain/account.js";
import type { ReactionScope } from "./reaction-scope.js";
import type { ContactIdentity } from "../domain/contact-identity.js";
import type { ContactProfile, InboundMessage, ManagementChange, MessagingChange, StatusUpdate } from "../domain/inbound.js";
import type {
  AccountRef,
  ContactSnapshot,
  ConversationSnapshot,
  OutboundMessageSnapshot,
} from "../domain/inbound-events.js";
import type { DeliveryStatus } from "../domain/message-status.js";

/**
 * Storage for webhook processing, bound to ONE transaction: everything a
 * delivery changes — across tenants — commits together with the inbox row
 * being marked processed, or not at all.
 */
export interface InboundStore {
  /** The live account serving this provider number, or undefined. */
  accountByPhoneNumberId(provider: Provider, phoneNumberId: string): Promise<AccountRef | undefined>;
  /** Live accounts of a WhatsApp Business Account (possibly several numbers, in principle several tenants). */
  accountsByWabaId(provider: Provider, wabaId: string): Promise<AccountRef[]>;
  /** Keeps a change no account claims, for operators; it is not retried. */
  recordUnroutable(change: MessagingChange | ManagementChange): Promise<void>;
  /**
   * Runs `work` against one tenant's tables, still in the same transaction.
   * Calls must not overlap: the tenant scope is the transaction's.
   */
  inTenant<T>(tenantId: string, work: (tenant: TenantInboundStore) => Promise<T>): Promise<T>;
}

export interface NewInboundMessage {
  id: string;
  accountId: string;
  conversationId: string;
  contactId: string;
  message: InboundMessage;
}

/** A status change to write on an outbound message. */
export interface StatusChange {
  /** Set when the status moves; undefined to record only the timestamp of a stale status. */
  status: DeliveryStatus | undefined;
  /** The timestamp column of the reported status, filled if still empty. */
  reported: Exclude<DeliveryStatus, "queued" | "sending">;
  at: Date;
  error: StatusUpdate["errors"][number] | undefined;
  pricing: StatusUpdate["pricing"];
}

/** One tenant's tables, inside the delivery's transaction. */
export interface TenantInboundStore {
  /** Id of the stored message with this provider id, if any. */
  messageIdByWamid(wamid: string): Promise<string | undefined>;
  /**
   * Creates the contact or refreshes it (profile fields the provider sent,
   * last seen). `created` is true only for the call that inserted it.
   */
  upsertContact(profile: ContactProfile, seenAt: Date): Promise<{ contact: ContactSnapshot; created: boolean }>;
  /** The contact's open conversation with the account, or a new one (`opened`). */
  findOrOpenConversation(accountId: string, contactId: string, at: Date): Promise<{ conversation: ConversationSnapshot; opened: boolean }>;
  /** Inserts the message unless its wamid is stored already; true when inserted. */
  insertInboundMessage(message: NewInboundMessage): Promise<boolean>;
  /** Counts an inbound message on the conversation; moves last_inbound_time forward when `windowFrom` is given. */
  countInboundMessage(conversationId: string, windowFrom: Date | undefined): Promise<ConversationSnapshot>;
  /**
   * Serialises status work on one wamid for the rest of the transaction: a
   * status arriving while the sending work records the same wamid either sees
   * the message or leaves a pending status the sending work then sees.
   */
  lockWamid(wamid: string): Promise<void>;
  /** The message with this wamid, locked for update, or undefined. */
  lockMessageByWamid(wamid: string): Promise<OutboundMessageSnapshot | undefined>;
  updateMessageStatus(messageId: string, change: StatusChange): Promise<void>;
  /** Keeps a status whose message is not known yet; false when the same status is kept already. */
  keepPendingStatus(update: StatusUpdate): Promise<boolean>;
  /** Removes and returns the kept statuses of a wamid, in arrival order. */
  takePendingStatuses(wamid: string): Promise<StatusUpdate[]>;
  /** Records a management update once (a repeated delivery is ignored); false when already recorded. */
  recordProviderUpdate(update: ManagementChange, accountId: string | undefined): Promise<boolean>;
  // Set-wise forms of the above, one statement each, for `receiveInboundMessages`
  // (the callers keep wa ids, wamids and so contacts and conversations distinct).
  /** wamid → id of the stored messages among `wamids`. */
  messageIdsByWamids(wamids: readonly string[]): Promise<Map<string, string>>;
  /** `upsertContact` for contacts of distinct wa ids; results in input order. */
  upsertContacts(inputs: readonly { profile: ContactProfile; seenAt: Date }[]): Promise<{ contact: ContactSnapshot; created: boolean }[]>;
  /** A number change: the contact takes the new identifiers, absorbing a contact that already holds one (ADR 0007). */
  relinkContact(contactId: string, to: ContactIdentity, at: Date): Promise<ContactSnapshot>;
  /** `findOrOpenConversation` for distinct (account, contact) pairs; results in input order. */
  findOrOpenConversations(
    pairs: readonly { accountId: string; contactId: string }[],
    at: Date,
  ): Promise<{ conversation: ConversationSnapshot; opened: boolean }[]>;
  /** `insertInboundMessage` for messages of distinct wamids; the ids of those inserted. */
  insertInboundMessages(messages: readonly NewInboundMessage[]): Promise<Set<string>>;
  /** `countInboundMessage` for distinct conversations; conversation id → the conversation after. */
  countInboundMessages(counts: readonly { conversationId: string; windowFrom: Date | undefined }[]): Promise<Map<string, ConversationSnapshot>>;
  /** Writes the events to the outbox, in order, in this transaction. */
  appendEvents(events: readonly DomainEvent[]): Promise<void>;
  /**
   * What the reactions to stored messages and updates (opt-out keywords,
   * one-time codes typed back, template status…) may do, in this
   * transaction; their events follow those already appended.
   */
  reactionScope(): ReactionScope;
}

/** An inbound message this transaction stored (not a duplicate), as the work that follows it sees it. */
export interface StoredInboundMessage {
  account: AccountRef;
  messageId: string;
  conversationId: string;
  contact: ContactSnapshot;
  message: InboundMessage;
}

/** What the status use case (app/apply-message-status.ts) needs of a tenant's transaction. */
export type MessageStatusStore = Pick<
  TenantInboundStore,
  "lockWamid" | "lockMessageByWamid" | "updateMessageStatus" | "keepPendingStatus" | "takePendingStatuses" | "appendEvents"
>;
