import type { ServiceImpl } from "@connectrpc/connect";

import type { AppContext } from "../../../context.js";
import { ConversationService } from "../../../../gen/whatsapp/v1/conversation_pb.js";
import { unimplementedService } from "../unimplemented.js";

/** ConversationService.WatchEvents. */
export function watchEventsHandler(_app: AppContext): ServiceImpl<typeof ConversationService>["watchEvents"] {
  return unimplementedService(ConversationService, "the live events work").watchEvents;
}
