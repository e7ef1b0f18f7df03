import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";

import { updateConversationSettings, type SettingsDeps } from "../../../app/conversations/settings.js";
import type { SettingsChange } from "../../../domain/conversations/settings.js";
import {
  UpdateConversationSettingsResponseSchema,
  type ConversationService,
  type ConversationSettings as PbConversationSettings,
  type UpdateConversationSettingsRequest,
} from "../../../../gen/whatsapp/v1/conversation_pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";
import { settingsToPb } from "./conversation-to-pb.js";
import { maskedFields } from "./request-fields.js";

export function updateConversationSettingsRpc(deps: SettingsDeps): RpcImpl<typeof ConversationService, "updateConversationSettings"> {
  return {
    async updateConversationSettings(req: UpdateConversationSettingsRequest, ctx: HandlerContext) {
      const settings = await updateConversationSettings(deps, tenantOf(ctx), settingsChange(req.settings!, req.updateMask?.paths ?? []));
      return create(UpdateConversationSettingsResponseSchema, { settings: settingsToPb(settings) });
    },
  };
}

const SETTINGS_FIELDS = ["opt_out_keywords", "opt_in_keywords", "inactivity_timeout_seconds"] as const;

/** With a mask, an empty list or 0 restores the default; without one, only populated fields change. */
function settingsChange(input: PbConversationSettings, paths: readonly string[]): SettingsChange {
  const fields = maskedFields(paths, SETTINGS_FIELDS, {
    opt_out_keywords: input.optOutKeywords.length > 0,
    opt_in_keywords: input.optInKeywords.length > 0,
    inactivity_timeout_seconds: input.inactivityTimeoutSeconds !== 0,
  });
  const change: SettingsChange = {};
  if (fields.has("opt_out_keywords")) change.optOutKeywords = input.optOutKeywords.length === 0 ? null : input.optOutKeywords;
  if (fields.has("opt_in_keywords")) change.optInKeywords = input.optInKeywords.length === 0 ? null : input.optInKeywords;
  if (fields.has("inactivity_timeout_seconds")) change.inactivityTimeoutSeconds = input.inactivityTimeoutSeconds === 0 ? null : input.inactivityTimeoutSeconds;
  return change;
}
