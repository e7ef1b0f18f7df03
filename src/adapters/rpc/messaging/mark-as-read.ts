import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";

import { markAsRead, type MarkAsReadDeps } from "../../../app/messaging/mark-as-read.js";
import { MarkAsReadResponseSchema, type MarkAsReadRequest, type MarkAsReadResponse, type MessagingService } from "../../../../gen/whatsapp/v1/messaging_pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";

export function markAsReadRpc(deps: MarkAsReadDeps): RpcImpl<typeof MessagingService, "markAsRead"> {
  return {
    async markAsRead(req: MarkAsReadRequest, ctx: HandlerContext): Promise<MarkAsReadResponse> {
      await markAsRead(deps, tenantOf(ctx), req.messageId, req.typingIndicator);
      return create(MarkAsReadResponseSchema, {});
    },
  };
}
