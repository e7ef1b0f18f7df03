/** Domain names ↔ the protobuf enums of message.proto, common.proto and account.proto. */
import type { Provider } from "../../domain/account.js";
import type { ConversationSource, ConversationStatus } from "../../domain/inbound-events.js";
import type { MessageStatus } from "../../domain/message-status.js";
import { Provider as PbProvider } from "../../../gen/whatsapp/v1/account_pb.js";
import { ConversationSource as PbConversationSource, ConversationStatus as PbConversationStatus } from "../../../gen/whatsapp/v1/common_pb.js";
import { MessageStatus as PbMessageStatus, MessageType as PbMessageType } from "../../../gen/whatsapp/v1/message_pb.js";

const MESSAGE_TYPES: Readonly<Record<string, PbMessageType>> = {
  text: PbMessageType.TEXT,
  image: PbMessageType.IMAGE,
  audio: PbMessageType.AUDIO,
  video: PbMessageType.VIDEO,
  document: PbMessageType.DOCUMENT,
  sticker: PbMessageType.STICKER,
  location: PbMessageType.LOCATION,
  contacts: PbMessageType.CONTACTS,
  interactive: PbMessageType.INTERACTIVE,
  button: PbMessageType.BUTTON,
  reaction: PbMessageType.REACTION,
  order: PbMessageType.ORDER,
  referral: PbMessageType.REFERRAL,
  system: PbMessageType.SYSTEM,
  unsupported: PbMessageType.UNSUPPORTED,
  template: PbMessageType.TEMPLATE,
};

/** A stored message type (`text`, `template`…); UNSPECIFIED for a name this code does not know. */
export function messageTypeToPb(type: string): PbMessageType {
  return MESSAGE_TYPES[type] ?? PbMessageType.UNSPECIFIED;
}

const MESSAGE_STATUSES: Readonly<Record<MessageStatus, PbMessageStatus>> = {
  queued: PbMessageStatus.QUEUED,
  sending: PbMessageStatus.SENDING,
  sent: PbMessageStatus.SENT,
  delivered: PbMessageStatus.DELIVERED,
  read: PbMessageStatus.READ,
  failed: PbMessageStatus.FAILED,
  received: PbMessageStatus.RECEIVED,
};

export function messageStatusToPb(status: MessageStatus): PbMessageStatus {
  return MESSAGE_STATUSES[status];
}

const PROVIDERS: Readonly<Record<Provider, PbProvider>> = {
  meta: PbProvider.META,
  twilio: PbProvider.TWILIO,
  sandbox: PbProvider.SANDBOX,
};

export function providerToPb(provider: Provider): PbProvider {
  return PROVIDERS[provider];
}

const CONVERSATION_STATUSES: Readonly<Record<ConversationStatus, PbConversationStatus>> = {
  active: PbConversationStatus.ACTIVE,
  escalated: PbConversationStatus.ESCALATED,
  closed: PbConversationStatus.CLOSED,
};

export function conversationStatusToPb(status: ConversationStatus): PbConversationStatus {
  return CONVERSATION_STATUSES[status];
}

const CONVERSATION_SOURCES: Readonly<Record<ConversationSource, PbConversationSource>> = {
  inbound: PbConversationSource.INBOUND,
  post_call: PbConversationSource.POST_CALL,
  manual: PbConversationSource.MANUAL,
};

export function conversationSourceToPb(source: ConversationSource | undefined): PbConversationSource {
  return source === undefined ? PbConversationSource.UNSPECIFIED : CONVERSATION_SOURCES[source];
}
