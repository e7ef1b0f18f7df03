/**
 * The sender's events (SPEC §7): `message.status` when a send is accepted
 * (SENDING → SENT) and `message.failed` when a message fails for good. Both
 * are written to the outbox in the transaction that records the change
 * (encoded there, adapters/events encode.ts).
 */
import type { DomainEvent, MessageFailed } from "../../../domain/events.js";
import type { AccountRef, OutboundMessageSnapshot } from "../../../domain/inbound-events.js";

export function messageSentEvent(eventId: string, account: AccountRef, message: OutboundMessageSnapshot, at: Date): DomainEvent {
  return {
    kind: "message.status",
    eventId,
    account,
    occurredAt: at,
    message,
    status: "sent",
    previousStatus: "sending",
    statusTime: at,
    error: undefined,
    pricing: undefined,
    providerConversation: undefined,
  };
}

export type FailedMessage = Omit<MessageFailed, "kind" | "eventId" | "account" | "occurredAt">;

export function messageFailedEvent(eventId: string, account: AccountRef, failed: FailedMessage, at: Date): MessageFailed {
  return { kind: "message.failed", eventId, account, occurredAt: at, ...failed };
}
