/**
 * The sender's `message.status` when a send is accepted (SENDING → SENT),
 * written to the outbox in the transaction that records the change (encoded
 * there, adapters/events encode.ts). A failed send's events follow the one
 * failure rule (domain/message-failure.ts).
 */
import type { DomainEvent } from "../../../domain/events.js";
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
