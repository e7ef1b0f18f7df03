/** Conversation views, contacts and settings → the protobuf resources; request enums → domain names. */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";

import type { ConversationView } from "../../../app/conversations/views.js";
import type { ConversationSettings } from "../../../domain/conversations/settings.js";
import type { ConversationSource, ConversationStatus } from "../../../domain/inbound-events.js";
import {
  ConversationSource as PbConversationSource,
  ConversationStatus as PbConversationStatus,
  type Conversation,
} from "../../../../gen/whatsapp/v1/common_pb.js";
import { ConversationSettingsSchema, ListMessagesRequest_Order, type ConversationSettings as PbConversationSettings } from "../../../../gen/whatsapp/v1/conversation_pb.js";
import { MessageDirection } from "../../../../gen/whatsapp/v1/message_pb.js";
import { conversationToPb } from "../../events/contact-pb.js";

/** The conversation with its 24-hour window as of the view (the contact's last message to the account in any conversation). */
export function conversationViewToPb(view: ConversationView): Conversation {
  // `now` does not matter: the window fields are replaced by the view's.
  const conversation = conversationToPb(view.conversation, view.contact, new Date(0));
  conversation.windowExpireTime = view.window.expireTime && timestampFromDate(view.window.expireTime);
  conversation.windowOpen = view.window.open;
  return conversation;
}

export function settingsToPb(settings: ConversationSettings): PbConversationSettings {
  return create(ConversationSettingsSchema, {
    optOutKeywords: [...settings.optOut],
    optInKeywords: [...settings.optIn],
    inactivityTimeoutSeconds: settings.inactivityTimeoutSeconds,
    updateTime: settings.updateTime && timestampFromDate(settings.updateTime),
  });
}

const STATUSES: Partial<Record<PbConversationStatus, ConversationStatus>> = {
  [PbConversationStatus.ACTIVE]: "active",
  [PbConversationStatus.ESCALATED]: "escalated",
  [PbConversationStatus.CLOSED]: "closed",
};

/** undefined for UNSPECIFIED (any, in filters). */
export function statusFromPb(status: PbConversationStatus): ConversationStatus | undefined {
  return STATUSES[status];
}

const SOURCES: Partial<Record<PbConversationSource, ConversationSource>> = {
  [PbConversationSource.INBOUND]: "inbound",
  [PbConversationSource.POST_CALL]: "post_call",
  [PbConversationSource.MANUAL]: "manual",
};

export function sourceFromPb(source: PbConversationSource): ConversationSource | undefined {
  return SOURCES[source];
}

export function directionFromPb(direction: MessageDirection): "inbound" | "outbound" | undefined {
  if (direction === MessageDirection.INBOUND) return "inbound";
  if (direction === MessageDirection.OUTBOUND) return "outbound";
  return undefined;
}

export function orderFromPb(order: ListMessagesRequest_Order): "newest_first" | "oldest_first" {
  return order === ListMessagesRequest_Order.OLDEST_FIRST ? "oldest_first" : "newest_first";
}
