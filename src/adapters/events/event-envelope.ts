/**
 * An outbox row → the `Event` wrapper that WatchEvents streams (events.proto):
 * the payload is the same protobuf message the relay publishes to JetStream,
 * decoded once and placed in its oneof case, with the header fields
 * (account, conversation, time) copied out of it for filtering.
 */
import { create, fromBinary } from "@bufbuild/protobuf";
import { timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";

import {
  ContactCreatedEventSchema,
  ConversationClosedEventSchema,
  ConversationOpenedEventSchema,
  EventSchema,
  EventType,
  MessageFailedEventSchema,
  MessageReceivedEventSchema,
  MessageStatusEventSchema,
  OtpVerifiedEventSchema,
  TemplateStatusEventSchema,
  type Event,
} from "../../../gen/whatsapp/v1/events_pb.js";
import type { EventName } from "../../domain/events.js";

/** What the envelope needs of an outbox row. */
export interface OutboxRecord {
  id: string;
  tenantId: string;
  /** The `event_type` column: an EventName. */
  eventType: string;
  payload: Uint8Array;
  /** When the row was written; the fallback for a payload without occurred_at. */
  createdAt: Date;
}

const TYPE_OF_NAME: Record<EventName, EventType> = {
  "message.received": EventType.MESSAGE_RECEIVED,
  "message.status": EventType.MESSAGE_STATUS,
  "message.failed": EventType.MESSAGE_FAILED,
  "conversation.opened": EventType.CONVERSATION_OPENED,
  "conversation.closed": EventType.CONVERSATION_CLOSED,
  "contact.created": EventType.CONTACT_CREATED,
  "template.status": EventType.TEMPLATE_STATUS,
  "otp.verified": EventType.OTP_VERIFIED,
};

/** The outbox `event_type` of an EventType (for filtering in SQL); undefined for UNSPECIFIED. */
export function eventNameOf(type: EventType): EventName | undefined {
  for (const [name, t] of Object.entries(TYPE_OF_NAME)) if (t === type) return name as EventName;
  return undefined;
}

/** The fields every event payload shares, read without knowing which one it is. */
interface CommonFields {
  accountId: string;
  occurredAt?: Timestamp | undefined;
  conversationId?: string;
}

/**
 * The Event for an outbox row, or undefined when its type is not one this
 * build knows (a newer replica wrote it): such rows are skipped, not fatal.
 * A payload that does not decode throws (it is our own bytes: a bug).
 */
export function outboxRecordToEvent(row: OutboxRecord): Event | undefined {
  const payload = payloadOf(row.eventType, row.payload);
  if (payload === undefined) return undefined;
  const common = payload.value as CommonFields;
  return create(EventSchema, {
    eventId: row.id,
    type: TYPE_OF_NAME[row.eventType as EventName],
    tenantId: row.tenantId,
    accountId: common.accountId,
    conversationId: common.conversationId ?? "",
    occurredAt: common.occurredAt ?? timestampFromDate(row.createdAt),
    payload,
  });
}

function payloadOf(eventType: string, bytes: Uint8Array): Event["payload"] | undefined {
  switch (eventType as EventName) {
    case "message.received":
      return { case: "messageReceived", value: fromBinary(MessageReceivedEventSchema, bytes) };
    case "message.status":
      return { case: "messageStatus", value: fromBinary(MessageStatusEventSchema, bytes) };
    case "message.failed":
      return { case: "messageFailed", value: fromBinary(MessageFailedEventSchema, bytes) };
    case "conversation.opened":
      return { case: "conversationOpened", value: fromBinary(ConversationOpenedEventSchema, bytes) };
    case "conversation.closed":
      return { case: "conversationClosed", value: fromBinary(ConversationClosedEventSchema, bytes) };
    case "contact.created":
      return { case: "contactCreated", value: fromBinary(ContactCreatedEventSchema, bytes) };
    case "template.status":
      return { case: "templateStatus", value: fromBinary(TemplateStatusEventSchema, bytes) };
    case "otp.verified":
      return { case: "otpVerified", value: fromBinary(OtpVerifiedEventSchema, bytes) };
    default:
      return undefined;
  }
}
