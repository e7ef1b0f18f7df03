/**
 * The message counters, from the events a transaction writes to the outbox
 * (every message received, sent, delivered, read or failed is one), counted
 * once that transaction has committed (after-commit.ts). Labelled by account
 * id only: never the contact, the phone number or the message.
 */
import type { DomainEvent } from "../domain/events.js";
import { countAfterCommit } from "./after-commit.js";

export function countCommittedEvents(events: readonly DomainEvent[]): void {
  if (!events.some(isCounted)) return;
  countAfterCommit((metrics) => {
    for (const event of events) {
      if (event.kind === "message.received") metrics.messagesReceived.inc({ account_id: event.account.id });
      else if (event.kind === "message.failed") metrics.messagesFailed.inc({ account_id: event.account.id });
      else if (event.kind === "message.status") {
        const labels = { account_id: event.account.id };
        if (event.status === "sent") metrics.messagesSent.inc(labels);
        else if (event.status === "delivered") metrics.messagesDelivered.inc(labels);
        else if (event.status === "read") metrics.messagesRead.inc(labels);
        // A failure is counted from its message.failed: every failed message has exactly one, beside its
        // message.status to FAILED (events.proto's failure rule), so counting both would count it twice.
      }
    }
  });
}

function isCounted(event: DomainEvent): boolean {
  return event.kind === "message.received" || event.kind === "message.failed" || event.kind === "message.status";
}
