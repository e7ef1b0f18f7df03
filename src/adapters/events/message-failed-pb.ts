/** message.failed → the protobuf MessageFailedEvent (SPEC §7). */
import { create, toBinary } from "@bufbuild/protobuf";

import type { MessageFailed } from "../../domain/events.js";
import { MessageFailedEventSchema } from "../../../gen/whatsapp/v1/events_pb.js";
import type { EncodedEvent } from "./encoded-event.js";
import { eventHeader, outboundMessageFields } from "./inbound-events-pb.js";
import { messageStatusToPb } from "./message-enums.js";

export function messageFailedToOutbox(event: MessageFailed): EncodedEvent {
  const { account, message, error } = event;
  const payload = create(MessageFailedEventSchema, {
    ...eventHeader(event.eventId, account, event.occurredAt),
    ...outboundMessageFields(account, message),
    error: { code: error.code, title: error.title, message: error.title, details: error.details, href: "", retryable: event.retryable },
    attemptCount: event.attemptCount,
    previousStatus: messageStatusToPb(event.previousStatus),
    contactId: message.contactId,
    idempotencyKey: event.idempotencyKey ?? "",
  });
  return { id: event.eventId, tenantId: account.tenantId, name: "message.failed", payload: toBinary(MessageFailedEventSchema, payload) };
}
