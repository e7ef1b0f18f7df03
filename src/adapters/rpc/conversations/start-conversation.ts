import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";

import { startConversation, type StartConversationDeps } from "../../../app/conversations/start-conversation.js";
import { DomainError } from "../../../domain/errors.js";
import { ConversationSource as PbConversationSource } from "../../../../gen/whatsapp/v1/common_pb.js";
import { StartConversationResponseSchema, type ConversationService, type StartConversationRequest } from "../../../../gen/whatsapp/v1/conversation_pb.js";
import { contentFromPb, priorityFromPb } from "../messaging/content-from-pb.js";
import { messageToPb } from "../messaging/message-to-pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";
import { conversationViewToPb } from "./conversation-to-pb.js";

export function startConversationRpc(deps: StartConversationDeps): RpcImpl<typeof ConversationService, "startConversation"> {
  return {
    async startConversation(req: StartConversationRequest, ctx: HandlerContext) {
      const template = contentFromPb({ case: "template", value: req.template! });
      if (template?.kind !== "template") throw DomainError.invalid([{ field: "template", description: "is required" }]);
      const result = await startConversation(deps, tenantOf(ctx), {
        requestId: req.requestId,
        accountId: req.accountId,
        // The app takes either: a phone number or a BSUID (exactly one is set, per the proto).
        phone: req.phone || req.userId,
        template,
        context: req.context,
        externalRefs: req.externalRefs,
        metadata: req.metadata,
        source: req.source === PbConversationSource.POST_CALL ? "post_call" : "manual",
        priority: priorityFromPb(req.priority),
      });
      return create(StartConversationResponseSchema, { conversation: conversationViewToPb(result.conversation), message: messageToPb(result.message) });
    },
  };
}
