import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";

import { getConversation, type ReadDeps } from "../../../app/conversations/read-conversations.js";
import { GetConversationResponseSchema, type ConversationService, type GetConversationRequest } from "../../../../gen/whatsapp/v1/conversation_pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";
import { conversationViewToPb } from "./conversation-to-pb.js";

export function getConversationRpc(deps: ReadDeps): RpcImpl<typeof ConversationService, "getConversation"> {
  return {
    async getConversation(req: GetConversationRequest, ctx: HandlerContext) {
      const view = await getConversation(deps, tenantOf(ctx), req.conversationId);
      return create(GetConversationResponseSchema, { conversation: conversationViewToPb(view) });
    },
  };
}
