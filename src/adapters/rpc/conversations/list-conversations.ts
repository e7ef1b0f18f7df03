import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext } from "@connectrpc/connect";

import { listConversations, type ReadDeps } from "../../../app/conversations/read-conversations.js";
import { ListConversationsResponseSchema, type ConversationService, type ListConversationsRequest } from "../../../../gen/whatsapp/v1/conversation_pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";
import { conversationViewToPb, sourceFromPb, statusFromPb } from "./conversation-to-pb.js";
import { emptyToUndefined } from "./request-fields.js";

export function listConversationsRpc(deps: ReadDeps): RpcImpl<typeof ConversationService, "listConversations"> {
  return {
    async listConversations(req: ListConversationsRequest, ctx: HandlerContext) {
      const page = await listConversations(deps, tenantOf(ctx), {
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        accountId: emptyToUndefined(req.accountId),
        status: statusFromPb(req.status),
        contactPhone: emptyToUndefined(req.contactPhone),
        contactUserId: emptyToUndefined(req.contactUserId),
        contactUsername: emptyToUndefined(req.contactUsername),
        contactId: emptyToUndefined(req.contactId),
        minUpdateTime: req.minUpdateTime && timestampDate(req.minUpdateTime),
        windowOpen: req.windowOpen,
        source: sourceFromPb(req.source),
      });
      return create(ListConversationsResponseSchema, { conversations: page.items.map(conversationViewToPb), nextPageToken: page.nextPageToken });
    },
  };
}
