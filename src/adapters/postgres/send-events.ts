/**
 * The sender's events (SPEC §7): `message.status` when a send is accepted
 * (SENDING → SENT) and `message.failed` when a message fails for good. Both
 * are written to the outbox in the transaction that records the change.
 */
import { create, toBinary } from "@bufbuild/protobuf";

import type { AccountRef, OutboundMessageSnapshot } from "../../domain/inbound-events.js";
import type { MessageStatus } from "../../domain/message-status.js";
import type { ProviderError } from "../../ports/whatsapp-provider.js";
import { MessageFailedEventSchema } from "../../../gen/whatsapp/v1/events_pb.js";
import { eventHeader, outboundMessageFields, toOutboxEvent } from "../events/inbound-events-pb.js";
import { messageStatusToPb } from "../events/message-enums.js";
import type { OutboxEvent } from "./outbox.js";

export function messageSentEvent(eventId: string, account: AccountRef, message: OutboundMessageSnapshot, at: Date): OutboxEvent {
  return toOutboxEvent({
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
  });
}

export interface FailedMessage {
  message: OutboundMessageSnapshot;
  previousStatus: MessageStatus;
  error: ProviderError;
  /** The service's classification: would (or did) a retry help. */
  retryable: boolean;
  attemptCount: number;
  idempotencyKey: string | undefined;
}

export function messageFailedEvent(eventId: string, account: AccountRef, failed: FailedMessage, at: Date): OutboxEvent {
  const { message, error } = failed;
  const payload = create(MessageFailedEventSchema, {
    ...eventHeader(eventId, account, at),
    ...outboundMessageFields(account, message),
    error: { code: error.code, title: error.title, message: error.title, details: error.details, href: "", retryable: failed.retryable },
    attemptCount: failed.attemptCount,
    previousStatus: messageStatusToPb(failed.previousStatus),
    contactId: message.contactId,
    idempotencyKey: failed.idempotencyKey ?? "",
  });
  return { id: eventId, tenantId: account.tenantId, name: "message.failed", payload: toBinary(MessageFailedEventSchema, payload) };
}
