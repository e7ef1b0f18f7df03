/**
 * Domain events of the webhook processing → the protobuf events of
 * events.proto, ready for the outbox (SPEC §7). Every event carries the
 * seed fields a listener needs without calling back: tenant, account,
 * business, WABA, number, conversation, message ids, from, to, content, type.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";

import { describeInbound } from "../../domain/inbound.js";
import type {
  AccountRef,
  ContactCreated,
  ConversationOpened,
  InboundEvent,
  MessageReceived,
  MessageStatusChanged,
  OutboundMessageSnapshot,
} from "../../domain/inbound-events.js";
import {
  ContactCreatedEventSchema,
  ConversationOpenedEventSchema,
  MessageReceivedEventSchema,
  MessageStatusEventSchema,
} from "../../../gen/whatsapp/v1/events_pb.js";
import type { EncodedEvent } from "./encoded-event.js";
import { contactToPb, conversationToPb } from "./contact-pb.js";
import { inboundMessageToPb, providerErrorToPb } from "./inbound-message-pb.js";
import { messageStatusToPb, messageTypeToPb } from "./message-enums.js";

export function toOutboxEvent(event: InboundEvent): EncodedEvent {
  const base = { id: event.eventId, tenantId: event.account.tenantId };
  switch (event.kind) {
    case "message.received":
      return { ...base, name: event.kind, payload: toBinary(MessageReceivedEventSchema, messageReceived(event)) };
    case "message.status":
      return { ...base, name: event.kind, payload: toBinary(MessageStatusEventSchema, messageStatus(event)) };
    case "conversation.opened":
      return { ...base, name: event.kind, payload: toBinary(ConversationOpenedEventSchema, conversationOpened(event)) };
    case "contact.created":
      return { ...base, name: event.kind, payload: toBinary(ContactCreatedEventSchema, contactCreated(event)) };
  }
}

function header(event: InboundEvent) {
  return eventHeader(event.eventId, event.account, event.occurredAt);
}

/** The fields every event carries (SPEC §7): its id, tenant, account, time and business. */
export function eventHeader(eventId: string, account: AccountRef, occurredAt: Date) {
  return {
    eventId,
    tenantId: account.tenantId,
    accountId: account.id,
    occurredAt: timestampFromDate(occurredAt),
    businessId: account.businessId,
  };
}

/** What status and failure events say about the outbound message (seed 000 §3.3 fields). */
export function outboundMessageFields(account: AccountRef, message: OutboundMessageSnapshot) {
  return {
    conversationId: message.conversationId ?? "",
    messageId: message.id,
    wamid: message.wamid,
    from: account.displayPhoneNumber,
    to: message.contactPhone,
    content: message.displayText,
    type: messageTypeToPb(message.type),
    metadata: message.metadata,
  };
}

function messageReceived(event: MessageReceived) {
  const { message, account } = event;
  return create(MessageReceivedEventSchema, {
    ...header(event),
    wabaId: account.wabaId,
    phoneNumberId: account.phoneNumberId,
    conversationId: event.conversationId,
    messageId: event.messageId,
    wamid: message.wamid,
    from: message.from,
    to: message.to || account.displayPhoneNumber,
    content: describeInbound(message),
    type: messageTypeToPb(message.type),
    message: inboundMessageToPb(message, event.messageId),
    contact: contactToPb(event.contact),
  });
}

function messageStatus(event: MessageStatusChanged) {
  const { message, account } = event;
  return create(MessageStatusEventSchema, {
    ...header(event),
    ...outboundMessageFields(account, message),
    status: messageStatusToPb(event.status),
    previousStatus: messageStatusToPb(event.previousStatus),
    statusTime: timestampFromDate(event.statusTime),
    error: event.error && providerErrorToPb(event.error),
    pricing: event.pricing && {
      billable: event.pricing.billable ?? false,
      pricingModel: event.pricing.pricingModel ?? "",
      category: event.pricing.category ?? "",
      type: event.pricing.type ?? "",
    },
    providerConversation: event.providerConversation && {
      id: event.providerConversation.id,
      expireTime: event.providerConversation.expireTime && timestampFromDate(event.providerConversation.expireTime),
      originType: event.providerConversation.originType ?? "",
    },
    contactId: message.contactId,
  });
}

function conversationOpened(event: ConversationOpened) {
  return create(ConversationOpenedEventSchema, {
    ...header(event),
    conversationId: event.conversation.id,
    conversation: conversationToPb(event.conversation, event.contact, event.occurredAt),
    messageId: event.messageId,
  });
}

function contactCreated(event: ContactCreated) {
  return create(ContactCreatedEventSchema, {
    ...header(event),
    contact: contactToPb(event.contact),
    messageId: event.messageId,
    conversationId: event.conversationId,
  });
}
