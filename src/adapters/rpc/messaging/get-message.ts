import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";

import { getMessage } from "../../../app/messaging/get-message.js";
import type { OutboundStore } from "../../../ports/outbound-store.js";
import { GetMessageResponseSchema, type GetMessageRequest, type GetMessageResponse, type MessagingService } from "../../../../gen/whatsapp/v1/messaging_pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";
import { messageToPb } from "./message-to-pb.js";

export function getMessageRpc(deps: { outbound: OutboundStore }): RpcImpl<typeof MessagingService, "getMessage"> {
  return {
    async getMessage(req: GetMessageRequest, ctx: HandlerContext): Promise<GetMessageResponse> {
      const message = await getMessage(deps, tenantOf(ctx), req.messageId);
      return create(GetMessageResponseSchema, { message: messageToPb(message) });
    },
  };
}
