import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext } from "@connectrpc/connect";

import { listFailedMessages } from "../../../app/messaging/list-failed-messages.js";
import type { OutboundStore } from "../../../ports/outbound-store.js";
import {
  ListFailedMessagesResponseSchema,
  type ListFailedMessagesRequest,
  type ListFailedMessagesResponse,
  type MessagingService,
} from "../../../../gen/whatsapp/v1/messaging_pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";
import { messageToPb } from "./message-to-pb.js";

export function listFailedMessagesRpc(deps: { outbound: OutboundStore }): RpcImpl<typeof MessagingService, "listFailedMessages"> {
  return {
    async listFailedMessages(req: ListFailedMessagesRequest, ctx: HandlerContext): Promise<ListFailedMessagesResponse> {
      const page = await listFailedMessages(deps, tenantOf(ctx), {
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        accountId: req.accountId || undefined,
        minFailTime: req.minFailTime && timestampDate(req.minFailTime),
      });
      return create(ListFailedMessagesResponseSchema, { messages: page.messages.map(messageToPb), nextPageToken: page.nextPageToken });
    },
  };
}
