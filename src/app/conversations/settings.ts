import { effectiveSettings, prepareSettingsChange, type ConversationSettings, type SettingsChange } from "../../domain/conversations/settings.js";
import type { ConversationStore } from "../../ports/conversation-store.js";

export interface SettingsDeps {
  conversations: ConversationStore;
  /** The service default (CONVERSATION_INACTIVITY_TIMEOUT_SECONDS). */
  defaultInactivityTimeoutSeconds: number;
}

export async function getConversationSettings(deps: SettingsDeps, tenantId: string): Promise<ConversationSettings> {
  return effectiveSettings(await deps.conversations.getSettings(tenantId), deps.defaultInactivityTimeoutSeconds);
}

/** Applies the fields present in `change` (an empty list or 0 restores the default); returns the settings in effect. */
export async function updateConversationSettings(deps: SettingsDeps, tenantId: string, change: SettingsChange): Promise<ConversationSettings> {
  const prepared = prepareSettingsChange(change);
  if (Object.keys(prepared).length === 0) return getConversationSettings(deps, tenantId);
  return effectiveSettings(await deps.conversations.updateSettings(tenantId, prepared), deps.defaultInactivityTimeoutSeconds);
}
