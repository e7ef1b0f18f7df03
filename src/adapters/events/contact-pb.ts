import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";

import type { ContactSnapshot, ConversationSnapshot } from "../../domain/inbound-events.js";
import { ContactSchema, ConversationSchema, type Contact, type Conversation } from "../../../gen/whatsapp/v1/common_pb.js";
import { conversationSourceToPb, conversationStatusToPb } from "./message-enums.js";

/** The free-form window after the contact's last message (Meta's customer-service window). */
export const SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000;

export function contactToPb(contact: ContactSnapshot): Contact {
  return create(ContactSchema, {
    id: contact.id,
    waId: contact.waId,
    phone: contact.phone,
    profileName: contact.profileName,
    userId: contact.userId,
    parentUserId: contact.parentUserId,
    username: contact.username,
    optedOut: contact.optedOut,
    firstSeenTime: timestampFromDate(contact.firstSeenTime),
    lastSeenTime: timestampFromDate(contact.lastSeenTime),
  });
}

/** The conversation as the API shows it; `window_open` is computed at `now`. */
export function conversationToPb(conversation: ConversationSnapshot, contact: ContactSnapshot, now: Date): Conversation {
  const windowExpire = conversation.lastInboundTime && new Date(conversation.lastInboundTime.getTime() + SERVICE_WINDOW_MS);
  return create(ConversationSchema, {
    id: conversation.id,
    accountId: conversation.accountId,
    contact: contactToPb(contact),
    status: conversationStatusToPb(conversation.status),
    source: conversationSourceToPb(conversation.source),
    context: conversation.context,
    summary: conversation.summary,
    externalRefs: conversation.externalRefs,
    metadata: conversation.metadata,
    messageCount: BigInt(conversation.messageCount),
    inboundMessageCount: BigInt(conversation.inboundMessageCount),
    outboundMessageCount: BigInt(conversation.outboundMessageCount),
    lastInboundTime: conversation.lastInboundTime && timestampFromDate(conversation.lastInboundTime),
    lastOutboundTime: conversation.lastOutboundTime && timestampFromDate(conversation.lastOutboundTime),
    windowExpireTime: windowExpire && timestampFromDate(windowExpire),
    windowOpen: windowExpire !== undefined && now.getTime() < windowExpire.getTime(),
    createTime: timestampFromDate(conversation.createTime),
    updateTime: timestampFromDate(conversation.updateTime),
    closeTime: conversation.closeTime && timestampFromDate(conversation.closeTime),
  });
}
