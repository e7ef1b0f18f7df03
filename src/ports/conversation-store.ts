import type { AccountRef, ContactSnapshot, ConversationSnapshot, ConversationSource, ConversationStatus } from "../domain/inbound-events.js";
import type { ConversationClosed, ConversationUpdatePlan } from "../domain/conversations/conversation-update.js";
import type { PageKey } from "../domain/conversations/page-token.js";
import type { SettingsChange, StoredConversationSettings } from "../domain/conversations/settings.js";
import type { StoredMessage } from "../domain/outbound/index.js";
import type { OutboundTransaction } from "./outbound-store.js";

/** A conversation with its contact, and when the contact last wrote to the account (in any conversation). */
export interface ConversationRecord {
  conversation: ConversationSnapshot;
  contact: ContactSnapshot;
  /**
   * The contact's last message to this account across all their
   * conversations: the 24-hour window belongs to the number and the user,
   * not to one thread (the send path checks it the same way).
   */
  windowFrom: Date | undefined;
}

/** A row of a list and its keyset position. */
export interface Keyed<T> {
  item: T;
  key: PageKey;
}

export interface ConversationFilter {
  accountId?: string;
  status?: ConversationStatus;
  /** WhatsApp id (digits, no "+"). */
  contactWaId?: string;
  /** The contact's business-scoped user id (BSUID). */
  contactBsuid?: string;
  /** The contact's WhatsApp username (exact). */
  contactUsername?: string;
  contactId?: string;
  minUpdateTime?: Date;
  /** With `now` of the query. */
  windowOpen?: boolean;
  source?: ConversationSource;
}

export type MessageOrder = "newest_first" | "oldest_first";

export interface MessageQuery {
  conversationId: string;
  order: MessageOrder;
  direction: "inbound" | "outbound" | undefined;
  after: PageKey | undefined;
  limit: number;
}

export interface ContactFilter {
  /** WhatsApp id (digits, no "+"). */
  waId?: string;
  bsuid?: string;
  parentBsuid?: string;
  /** Exact WhatsApp username. */
  username?: string;
  /** Case-insensitive substring of the profile name. */
  profileName?: string;
  optedOut?: boolean;
  minLastSeenTime?: Date;
}

/** How StartConversation opens a conversation (when the contact has no open one). */
export interface ConversationOpening {
  source: Exclude<ConversationSource, "inbound">;
  context: string;
  externalRefs: Record<string, string>;
  metadata: Record<string, string>;
}

/**
 * Conversations, their messages and contacts, and the tenant's conversation
 * settings. Reads list newest first on keys that never change (create_time,
 * id), so paging is stable while messages arrive. A tenant with no schema
 * yet (no account ever) has nothing: lists are empty, gets find nothing.
 */
export interface ConversationStore {
  /** `limit` rows after `after`, newest first. */
  listConversations(tenantId: string, query: { filter: ConversationFilter; after: PageKey | undefined; limit: number; now: Date }): Promise<Keyed<ConversationRecord>[]>;
  getConversation(tenantId: string, conversationId: string): Promise<ConversationRecord | undefined>;
  /** undefined when the conversation does not exist (in this tenant). */
  listMessages(tenantId: string, query: MessageQuery): Promise<Keyed<StoredMessage>[] | undefined>;
  getContact(tenantId: string, contactId: string): Promise<ContactSnapshot | undefined>;
  listContacts(tenantId: string, query: { filter: ContactFilter; after: PageKey | undefined; limit: number }): Promise<Keyed<ContactSnapshot>[]>;
  getSettings(tenantId: string): Promise<StoredConversationSettings>;
  /** Applies a prepared change (creating the tenant's schema if it has none yet); returns what is stored after. */
  updateSettings(tenantId: string, change: SettingsChange): Promise<StoredConversationSettings>;
  /** One tenant transaction for UpdateConversation. */
  inTransaction<T>(tenantId: string, work: (tx: ConversationTransaction) => Promise<T>): Promise<T>;
  /**
   * One tenant transaction for StartConversation: the send path's writes
   * (queueMessage) with conversations opened per `opening`, or the open one
   * updated with its context, refs and metadata.
   */
  inStartTransaction<T>(tenantId: string, opening: ConversationOpening, work: (tx: StartConversationTransaction) => Promise<T>): Promise<T>;
}

export interface ConversationTransaction {
  /** The conversation locked for update, or undefined (also when the tenant has no schema). */
  lockConversation(conversationId: string): Promise<ConversationRecord | undefined>;
  /** Writes the plan's columns (update_time now); returns the conversation after. */
  applyUpdate(conversationId: string, set: ConversationUpdatePlan["set"]): Promise<ConversationSnapshot>;
  /** The account for event headers (a deleted account too: its conversations outlive it). */
  accountRef(accountId: string): Promise<AccountRef | undefined>;
  appendClosed(event: ConversationClosed): Promise<void>;
}

export interface StartConversationTransaction extends OutboundTransaction, Pick<ConversationTransaction, "accountRef"> {
  /**
   * Claims a StartConversation request id until `expireTime` for a
   * provisional message id; returns the message id the request names — the
   * provisional one when this call claimed it, else the first request's
   * message (a concurrent repeat waits for the first to commit).
   */
  claimRequest(requestId: string, provisionalMessageId: string, now: Date, expireTime: Date): Promise<string>;
  /** Points a claimed request id at the message finally queued. */
  bindRequest(requestId: string, messageId: string): Promise<void>;
  /** The contact with this WhatsApp id, if known. */
  contactByWaId(waId: string): Promise<ContactSnapshot | undefined>;
  /** Category (MARKETING, UTILITY, AUTHENTICATION) of the account's live template, if the tenant has it. */
  templateCategory(accountId: string, name: string, language: string): Promise<string | undefined>;
  conversation(conversationId: string): Promise<ConversationRecord | undefined>;
}
