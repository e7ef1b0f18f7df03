import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";

import { sendMessage, type SendMessageDeps } from "../../../app/messaging/send-message.js";
import { DomainError } from "../../../domain/errors.js";
import { SendMessageResponseSchema, type SendMessageRequest, type SendMessageResponse, type MessagingService } from "../../../../gen/whatsapp/v1/messaging_pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";
import { contentFromPb, priorityFromPb } from "./content-from-pb.js";
import { messageToPb } from "./message-to-pb.js";

export function sendMessageRpc(deps: SendMessageDeps): RpcImpl<typeof MessagingService, "sendMessage"> {
  return {
    async sendMessage(req: SendMessageRequest, ctx: HandlerContext): Promise<SendMessageResponse> {
      const content = contentFromPb(req.content);
      if (!content) throw DomainError.invalid([{ field: "content", description: "exactly one content field is required" }]);
      const result = await sendMessage(deps, tenantOf(ctx), {
        accountId: req.accountId,
        to: req.to,
        content,
        replyTo: req.replyToMessageId,
        idempotencyKey: req.idempotencyKey,
        priority: priorityFromPb(req.priority),
        metadata: req.metadata,
      });
      return create(SendMessageResponseSchema, { message: messageToPb(result.message), duplicate: result.duplicate });
    },
  };
}
