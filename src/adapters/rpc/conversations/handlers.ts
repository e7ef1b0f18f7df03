import type { ServiceImpl } from "@connectrpc/connect";

import type { AppContext } from "../../../context.js";
import { ConversationService } from "../../../../gen/whatsapp/v1/conversation_pb.js";
import { unimplementedService } from "../unimplemented.js";

/** Every ConversationService method except WatchEvents. */
export function conversationHandlers(_app: AppContext): Omit<ServiceImpl<typeof ConversationService>, "watchEvents"> {
  const { watchEvents: _watch, ...rest } = unimplementedService(ConversationService, "the conversations and contacts work");
  return rest;
}
