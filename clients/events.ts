/**
 * For consumers of the JetStream stream: a message → its event, typed.
 *
 * The service publishes each event on `whatsapp.{tenant_id}.{event}` with
 * the protobuf payload of `proto/whatsapp/v1/events.proto` as body, the event
 * name in the `whatsapp-event-type` header and the event id as `Nats-Msg-Id`.
 * `decodeEvent` reads the header (the subject when a message has none),
 * decodes the body with the matching generated schema and returns a union
 * discriminated by `type`, so `switch (e.type)` narrows `e.event`.
 *
 * Works with any object shaped like a `@nats-io/jetstream` JsMsg; it imports
 * nothing from NATS.
 */
import { fromBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";

import {
  ContactCreatedEventSchema,
  ConversationClosedEventSchema,
  ConversationOpenedEventSchema,
  MessageFailedEventSchema,
  MessageReceivedEventSchema,
  MessageStatusEventSchema,
  OtpVerifiedEventSchema,
  TemplateStatusEventSchema,
} from "../gen/whatsapp/v1/events_pb.js";

/** The header that names the event (SPEC §7). */
export const EVENT_TYPE_HEADER = "whatsapp-event-type";

/** Every event the service publishes, by the name in its header and subject. */
export const EVENT_SCHEMAS = {
  "message.received": MessageReceivedEventSchema,
  "message.status": MessageStatusEventSchema,
  "message.failed": MessageFailedEventSchema,
  "conversation.opened": ConversationOpenedEventSchema,
  "conversation.closed": ConversationClosedEventSchema,
  "contact.created": ContactCreatedEventSchema,
  "template.status": TemplateStatusEventSchema,
  "otp.verified": OtpVerifiedEventSchema,
} as const satisfies Record<string, DescMessage>;

export type EventName = keyof typeof EVENT_SCHEMAS;

/** A decoded event: `type` tells which message `event` is. */
export type WhatsAppEvent = {
  [N in EventName]: { type: N; event: MessageShape<(typeof EVENT_SCHEMAS)[N]> };
}[EventName];

/** What decodeEvent needs of a JetStream message (a JsMsg has all of it). */
export interface EventMessage {
  subject: string;
  data: Uint8Array;
  headers?: { get(key: string): string } | undefined;
}

export function isEventName(name: string): name is EventName {
  return Object.hasOwn(EVENT_SCHEMAS, name);
}

/** The event name a message carries: its header, else the subject's tail (`whatsapp.acme.message.status` → `message.status`). */
export function eventNameOf(message: EventMessage): string {
  const header = message.headers?.get(EVENT_TYPE_HEADER) ?? "";
  return header !== "" ? header : message.subject.split(".").slice(2).join(".");
}

/**
 * The event in a message, or undefined when its type is one this build does
 * not know (a newer service published it): ack and skip those, so an upgrade
 * on the publishing side never wedges a consumer. A body that does not decode
 * as its type throws.
 */
export function decodeEvent(message: EventMessage): WhatsAppEvent | undefined {
  const name = eventNameOf(message);
  if (!isEventName(name)) return undefined;
  // The mapped type ties `type` to `event`; TypeScript cannot follow that
  // through an indexed schema, hence the one cast.
  return { type: name, event: fromBinary(EVENT_SCHEMAS[name], message.data) } as WhatsAppEvent;
}
