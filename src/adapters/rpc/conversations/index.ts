import type { ServiceImpl } from "@connectrpc/connect";

import type { ReadDeps } from "../../../app/conversations/read-conversations.js";
import type { SettingsDeps } from "../../../app/conversations/settings.js";
import type { StartConversationDeps } from "../../../app/conversations/start-conversation.js";
import type { UpdateConversationDeps } from "../../../app/conversations/update-conversation.js";
import type { ConversationService } from "../../../../gen/whatsapp/v1/conversation_pb.js";
import { getContactRpc } from "./get-contact.js";
import { getConversationSettingsRpc } from "./get-conversation-settings.js";
import { getConversationRpc } from "./get-conversation.js";
import { listContactsRpc } from "./list-contacts.js";
import { listConversationsRpc } from "./list-conversations.js";
import { listMessagesRpc } from "./list-messages.js";
import { startConversationRpc } from "./start-conversation.js";
import { updateConversationSettingsRpc } from "./update-conversation-settings.js";
import { updateConversationRpc } from "./update-conversation.js";
import { watchEventsRpc, type EventStream } from "./watch-events.js";

/** What ConversationService's handlers use: the conversation store, the template check, the event feed, the default settings, ids and the clock. */
export type ConversationServiceDeps = ReadDeps & UpdateConversationDeps & StartConversationDeps & SettingsDeps & { eventFeed: EventStream };

/** ConversationService: conversations, their messages, contacts, settings and the live event stream — one file per RPC. */
export function conversationService(deps: ConversationServiceDeps): ServiceImpl<typeof ConversationService> {
  return {
    ...listConversationsRpc(deps),
    ...getConversationRpc(deps),
    ...listMessagesRpc(deps),
    ...updateConversationRpc(deps),
    ...startConversationRpc(deps),
    ...getContactRpc(deps),
    ...listContactsRpc(deps),
    ...getConversationSettingsRpc(deps),
    ...updateConversationSettingsRpc(deps),
    ...watchEventsRpc(deps),
  };
}
