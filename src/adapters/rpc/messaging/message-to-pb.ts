/** A stored message (either direction) → the Message resource. */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";

import { describeInbound, type InboundMessage } from "../../../domain/inbound.js";
import { displayTextOf, readGraphMessage, type StoredMessage } from "../../../domain/outbound/index.js";
import type { SendPriority } from "../../../domain/priority.js";
import { MessageDirection, MessageSchema, Priority, type Message } from "../../../../gen/whatsapp/v1/message_pb.js";
import { contactToPb } from "../../events/contact-pb.js";
import { inboundMessageToPb } from "../../events/inbound-message-pb.js";
import { messageStatusToPb, messageTypeToPb } from "../../events/message-enums.js";
import { outboundContentToPb } from "./content-to-pb.js";

const PRIORITIES: Record<SendPriority, Priority> = { otp: Priority.OTP, transactional: Priority.TRANSACTIONAL, marketing: Priority.MARKETING };

const ts = (date: Date | undefined) => date && timestampFromDate(date);

export function messageToPb(message: StoredMessage): Message {
  const outbound = message.direction === "outbound";
  // A contact known only by BSUID (a username adopter) is named by it (ADR 0007).
  const contactPhone = message.contact.phone || message.contact.userId;
  const { content, displayText } = outbound ? outboundContent(message) : inboundContent(message);
  return create(MessageSchema, {
    id: message.id,
    accountId: message.accountId,
    conversationId: message.conversationId ?? "",
    contact: contactToPb(message.contact),
    direction: outbound ? MessageDirection.OUTBOUND : MessageDirection.INBOUND,
    from: outbound ? message.accountPhone : contactPhone,
    to: outbound ? contactPhone : message.accountPhone,
    type: messageTypeToPb(message.type),
    status: messageStatusToPb(message.status),
    wamid: message.wamid ?? "",
    displayText,
    content,
    replyToMessageId: message.replyToMessageId ?? "",
    priority: message.priority ? PRIORITIES[message.priority] : Priority.UNSPECIFIED,
    idempotencyKey: message.idempotencyKey ?? "",
    metadata: message.metadata,
    error: message.error && {
      code: Number.parseInt(message.error.code, 10) || 0,
      title: message.error.title,
      message: message.error.title,
      details: message.error.details,
      // An error on a message still queued is one being retried; on a failed one it was final.
      retryable: message.status === "queued",
    },
    attemptCount: message.attemptCount,
    nextAttemptTime: message.status === "queued" ? ts(message.nextAttemptTime) : undefined,
    pricing: message.pricing && pricingToPb(message.pricing),
    createTime: ts(message.createTime),
    updateTime: ts(message.updateTime),
    sendTime: ts(message.sentTime),
    deliverTime: ts(message.deliveredTime),
    readTime: ts(message.readTime),
    failTime: ts(message.failedTime),
  });
}

type Content = { content: MessageInitShape<typeof MessageSchema>["content"]; displayText: string };

function outboundContent(message: StoredMessage): Content {
  const content = readGraphMessage(message.content);
  if (!content) return { content: { case: undefined }, displayText: "" };
  return { content: outboundContentToPb(content), displayText: displayTextOf(content) };
}

/** messages.content of an inbound message is the normalised InboundMessage as JSON: revive its dates. */
function inboundContent(message: StoredMessage): Content {
  const stored = message.content as InboundMessage & { timestamp: string };
  const inbound: InboundMessage = { ...stored, errors: stored.errors ?? [], timestamp: new Date(stored.timestamp) };
  return { content: { case: "inbound", value: inboundMessageToPb(inbound, message.id) }, displayText: describeInbound(inbound) };
}

function pricingToPb(pricing: Record<string, unknown>) {
  const str = (v: unknown) => (typeof v === "string" ? v : "");
  return { billable: pricing.billable === true, pricingModel: str(pricing.pricingModel), category: str(pricing.category), type: str(pricing.type) };
}
