import { DomainError } from "../errors.js";
import type { AccountRef, ContactSnapshot, ConversationSnapshot, ConversationStatus } from "../inbound-events.js";

/** Why a conversation closed (conversations.close_reason). */
export type CloseReason = "api" | "inactivity";

/** What UpdateConversation asks to change; a field absent stays as it is. */
export interface ConversationChange {
  /** undefined in the change but named by the mask = the caller left it unset: refused. */
  status?: ConversationStatus | undefined;
  context?: string;
  summary?: string;
  externalRefs?: Record<string, string>;
  metadata?: Record<string, string>;
}

/** The columns to write, and whether this change closes the conversation. */
export interface ConversationUpdatePlan {
  set: {
    status?: ConversationStatus;
    context?: string;
    summary?: string;
    externalRefs?: Record<string, string>;
    metadata?: Record<string, string>;
    closeTime?: Date;
    closeReason?: CloseReason;
  };
  closes: boolean;
}

/**
 * The rules of UpdateConversation: ACTIVE ↔ ESCALATED freely while open;
 * CLOSED ends it (close_time, reason `api`, one conversation.closed event).
 * A closed conversation stays closed — the contact's next message opens a
 * new one — but its context, summary, refs and metadata may still change.
 * Maps are replaced whole (AIP-134).
 */
export function planConversationUpdate(current: ConversationSnapshot, change: ConversationChange, now: Date): ConversationUpdatePlan {
  const set: ConversationUpdatePlan["set"] = {};
  let closes = false;
  if ("status" in change) {
    const status = change.status;
    if (status === undefined) throw DomainError.invalid([{ field: "conversation.status", description: "must be ACTIVE, ESCALATED or CLOSED" }]);
    if (current.status === "closed") {
      if (status !== "closed") {
        throw new DomainError(
          "failed_precondition",
          "CONVERSATION_CLOSED",
          `conversation ${current.id} is closed and cannot be reopened; the contact's next message (or StartConversation) opens a new one`,
        );
      }
    } else if (status !== current.status) {
      set.status = status;
      if (status === "closed") {
        set.closeTime = now;
        set.closeReason = "api";
        closes = true;
      }
    }
  }
  if (change.context !== undefined) set.context = change.context;
  if (change.summary !== undefined) set.summary = change.summary;
  if (change.externalRefs !== undefined) set.externalRefs = change.externalRefs;
  if (change.metadata !== undefined) set.metadata = change.metadata;
  return { set, closes };
}

/** "conversation.closed" (events.proto ConversationClosedEvent), written with the close. */
export interface ConversationClosed {
  kind: "conversation.closed";
  eventId: string;
  account: AccountRef;
  occurredAt: Date;
  conversation: ConversationSnapshot;
  contact: ContactSnapshot;
  reason: CloseReason;
}

/**
 * When a conversation counts as idle: nothing in either direction (nor its
 * opening) since this time. The inactivity job closes open conversations
 * whose last activity is older than the tenant's timeout.
 */
export function lastActivityOf(conversation: Pick<ConversationSnapshot, "lastInboundTime" | "lastOutboundTime" | "createTime">): Date {
  const times = [conversation.lastInboundTime, conversation.lastOutboundTime, conversation.createTime].filter((t): t is Date => t !== undefined);
  return new Date(Math.max(...times.map((t) => t.getTime())));
}
