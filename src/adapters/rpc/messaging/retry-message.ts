import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";

import { retryMessage } from "../../../app/messaging/retry-message.js";
import type { OutboundStore } from "../../../ports/outbound-store.js";
import { RetryMessageResponseSchema, type RetryMessageRequest, type RetryMessageResponse } from "../../../../gen/whatsapp/v1/messaging_pb.js";
import { tenantOf } from "../tenant-context.js";
import { messageToPb } from "./message-to-pb.js";

export function retryMessageHandler(deps: { outbound: OutboundStore; now: () => Date }) {
  return async (req: RetryMessageRequest, ctx: HandlerContext): Promise<RetryMessageResponse> => {
    const message = await retryMessage(deps, tenantOf(ctx), req.messageId);
    return create(RetryMessageResponseSchema, { message: messageToPb(message) });
  };
}
