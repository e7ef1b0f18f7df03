import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";

import { retryMessage } from "../../../app/messaging/retry-message.js";
import type { OutboundStore } from "../../../ports/outbound-store.js";
import { RetryMessageResponseSchema, type RetryMessageRequest, type RetryMessageResponse, type MessagingService } from "../../../../gen/whatsapp/v1/messaging_pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";
import { messageToPb } from "./message-to-pb.js";

export function retryMessageRpc(deps: { outbound: OutboundStore; now: () => Date }): RpcImpl<typeof MessagingService, "retryMessage"> {
  return {
    async retryMessage(req: RetryMessageRequest, ctx: HandlerContext): Promise<RetryMessageResponse> {
      const message = await retryMessage(deps, tenantOf(ctx), req.messageId);
      return create(RetryMessageResponseSchema, { message: messageToPb(message) });
    },
  };
}
