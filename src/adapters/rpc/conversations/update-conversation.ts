import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";

import { updateConversation, type UpdateConversationDeps } from "../../../app/conversations/update-conversation.js";
import type { ConversationChange } from "../../../domain/conversations/conversation-update.js";
import type { Conversation as PbConversation } from "../../../../gen/whatsapp/v1/common_pb.js";
import { UpdateConversationResponseSchema, type ConversationService, type UpdateConversationRequest } from "../../../../gen/whatsapp/v1/conversation_pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";
import { conversationViewToPb, statusFromPb } from "./conversation-to-pb.js";
import { maskedFields } from "./request-fields.js";

export function updateConversationRpc(deps: UpdateConversationDeps): RpcImpl<typeof ConversationService, "updateConversation"> {
  return {
    async updateConversation(req: UpdateConversationRequest, ctx: HandlerContext) {
      const input = req.conversation!;
      const view = await updateConversation(deps, tenantOf(ctx), input.id, conversationChange(input, req.updateMask?.paths ?? []));
      return create(UpdateConversationResponseSchema, { conversation: conversationViewToPb(view) });
    },
  };
}

const CONVERSATION_FIELDS = ["status", "context", "summary", "external_refs", "metadata"] as const;

/**
 * AIP-134: with a mask, exactly the named fields change (an empty value
 * clears; status must then be set); without one, every populated field.
 */
function conversationChange(input: PbConversation, paths: readonly string[]): ConversationChange {
  const fields = maskedFields(paths, CONVERSATION_FIELDS, {
    status: input.status !== 0,
    context: input.context !== "",
    summary: input.summary !== "",
    external_refs: Object.keys(input.externalRefs).length > 0,
    metadata: Object.keys(input.metadata).length > 0,
  });
  const change: ConversationChange = {};
  if (fields.has("status")) change.status = statusFromPb(input.status);
  if (fields.has("context")) change.context = input.context;
  if (fields.has("summary")) change.summary = input.summary;
  if (fields.has("external_refs")) change.externalRefs = { ...input.externalRefs };
  if (fields.has("metadata")) change.metadata = { ...input.metadata };
  return change;
}
