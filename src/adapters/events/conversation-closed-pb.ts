/** "conversation.closed" (domain/conversations) → ConversationClosedEvent, ready for the outbox. */
import { create, toBinary } from "@bufbuild/protobuf";

import type { CloseReason, ConversationClosed } from "../../domain/conversations/conversation-update.js";
import { ConversationCloseReason, ConversationClosedEventSchema } from "../../../gen/whatsapp/v1/events_pb.js";
import type { EncodedEvent } from "./encoded-event.js";
import { conversationToPb } from "./contact-pb.js";
import { eventHeader } from "./inbound-events-pb.js";

const REASONS: Readonly<Record<CloseReason, ConversationCloseReason>> = {
  api: ConversationCloseReason.API,
  inactivity: ConversationCloseReason.INACTIVITY,
};

export function conversationClosedToOutbox(event: ConversationClosed): EncodedEvent {
  const payload = create(ConversationClosedEventSchema, {
    ...eventHeader(event.eventId, event.account, event.occurredAt),
    conversationId: event.conversation.id,
    conversation: conversationToPb(event.conversation, event.contact, event.occurredAt),
    reason: REASONS[event.reason],
  });
  return { id: event.eventId, tenantId: event.account.tenantId, name: event.kind, payload: toBinary(ConversationClosedEventSchema, payload) };
}
