import type { ServiceImpl } from "@connectrpc/connect";

import type { AppContext } from "../../../context.js";
import type { ConversationService } from "../../../../gen/whatsapp/v1/conversation_pb.js";
import { conversationHandlers } from "./handlers.js";
import { watchEventsHandler } from "./watch-events.js";

/** ConversationService: conversations, messages and contacts (handlers.ts), and the live event stream (watch-events.ts). */
export function conversationService(app: AppContext): ServiceImpl<typeof ConversationService> {
  return { ...conversationHandlers(app), watchEvents: watchEventsHandler(app) };
}
