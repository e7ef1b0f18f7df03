import type { AccountStatus } from "../account.js";
import type { AccountRef, ContactSnapshot, ConversationSnapshot } from "../inbound-events.js";
import type { MessageStatus } from "../message-status.js";
import type { SendPriority } from "../priority.js";

/**
 * A stored message of either direction, as GetMessage and the lists show it.
 * `content` is what the row holds: for outbound the Graph API message object
 * that is (or was) sent, for inbound the normalised InboundMessage as JSON.
 */
export interface StoredMessage {
  id: string;
  accountId: string;
  /** The account's number (E.164): the sender of outbound messages, the recipient of inbound ones. */
  accountPhone: string;
  conversationId: string | undefined;
  contact: ContactSnapshot;
  direction: "inbound" | "outbound";
  /** `text`, `image`, `template`… */
  type: string;
  status: MessageStatus;
  wamid: string | undefined;
  content: unknown;
  /** Outbound: the caller's reply_to_message_id as given. */
  replyToMessageId: string | undefined;
  priority: SendPriority | undefined;
  idempotencyKey: string | undefined;
  metadata: Record<string, string>;
  error: { code: string; title: string; details: string } | undefined;
  attemptCount: number;
  nextAttemptTime: Date | undefined;
  pricing: Record<string, unknown> | undefined;
  createTime: Date;
  updateTime: Date;
  sentTime: Date | undefined;
  deliveredTime: Date | undefined;
  readTime: Date | undefined;
  failedTime: Date | undefined;
}

/** The account a send goes out from: what events need of it, and whether it may send. */
export interface SendingAccount extends AccountRef {
  status: AccountStatus;
}

/** A contact and whether this call created it. */
export interface RecipientContact {
  contact: ContactSnapshot;
  created: boolean;
}

export interface ConversationForSend {
  conversation: ConversationSnapshot;
  opened: boolean;
}

/** Send-queue counters of one account (GetQueueStats). */
export interface AccountQueueStats {
  accountId: string;
  /** Waiting for their first attempt. */
  queued: number;
  sending: number;
  /** Queued again after a retryable error. */
  retrying: number;
  /** Ended failed in the last 24 hours. */
  failed: number;
  /** Age since queuing of the oldest message not settled (queued, retrying or sending), ms; 0 if none. */
  oldestAgeMs: number;
  /** How long the longest-running send has been `sending`, ms; 0 if none. */
  oldestSendingAgeMs: number;
  rateLimitPerSecond: number;
  circuitOpen: boolean;
}
