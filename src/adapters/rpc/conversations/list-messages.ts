import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";

import { listMessages } from "../../../app/conversations/list-messages.js";
import type { ConversationStore } from "../../../ports/conversation-store.js";
import { ListMessagesResponseSchema, type ConversationService, type ListMessagesRequest } from "../../../../gen/whatsapp/v1/conversation_pb.js";
import { messageToPb } from "../messaging/message-to-pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";
import { directionFromPb, orderFromPb } from "./conversation-to-pb.js";

export function listMessagesRpc(deps: { conversations: ConversationStore }): RpcImpl<typeof ConversationService, "listMessages"> {
  return {
    async listMessages(req: ListMessagesRequest, ctx: HandlerContext) {
      const page = await listMessages(deps, tenantOf(ctx), {
        conversationId: req.conversationId,
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        order: orderFromPb(req.order),
        direction: directionFromPb(req.direction),
      });
      return create(ListMessagesResponseSchema, { messages: page.items.map(messageToPb), nextPageToken: page.nextPageToken });
    },
  };
}
