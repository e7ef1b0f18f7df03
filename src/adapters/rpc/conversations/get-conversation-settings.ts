import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";

import { getConversationSettings, type SettingsDeps } from "../../../app/conversations/settings.js";
import { GetConversationSettingsResponseSchema, type ConversationService, type GetConversationSettingsRequest } from "../../../../gen/whatsapp/v1/conversation_pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";
import { settingsToPb } from "./conversation-to-pb.js";

export function getConversationSettingsRpc(deps: SettingsDeps): RpcImpl<typeof ConversationService, "getConversationSettings"> {
  return {
    async getConversationSettings(_req: GetConversationSettingsRequest, ctx: HandlerContext) {
      const settings = await getConversationSettings(deps, tenantOf(ctx));
      return create(GetConversationSettingsResponseSchema, { settings: settingsToPb(settings) });
    },
  };
}
