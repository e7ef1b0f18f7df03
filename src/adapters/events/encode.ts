/**
 * The one place domain events become their wire form (protobuf payload,
 * event name, tenant): the outbox implementation calls it as it appends
 * (adapters/postgres outbox.ts), nothing else does.
 */
import type { DomainEvent } from "../../domain/events.js";
import { conversationClosedToOutbox } from "./conversation-closed-pb.js";
import type { EncodedEvent } from "./encoded-event.js";
import { toOutboxEvent } from "./inbound-events-pb.js";
import { messageFailedToOutbox } from "./message-failed-pb.js";
import { otpVerifiedToOutbox } from "./otp-events-pb.js";
import { templateStatusEvent } from "./template-events-pb.js";

export function encodeEvent(event: DomainEvent): EncodedEvent {
  switch (event.kind) {
    case "conversation.closed":
      return conversationClosedToOutbox(event);
    case "message.failed":
      return messageFailedToOutbox(event);
    case "template.status":
      return templateStatusEvent(event);
    case "otp.verified":
      return otpVerifiedToOutbox(event);
    default:
      return toOutboxEvent(event);
  }
}
