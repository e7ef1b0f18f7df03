/**
 * Meta's `user_preferences` webhook: a user tapped "Stop" (or "Resume") on
 * the business's marketing messages in WhatsApp. Read from the change's
 * value (ManagementChange.raw), which webhook parsing keeps verbatim:
 *
 *   { "user_preferences": [ { "wa_id": "16505551234", "category": "marketing_messages",
 *                             "value": "stop" | "resume", "timestamp": 1731705721 } ] }
 */
export interface MarketingPreference {
  waId: string;
  optedOut: boolean;
  /** When the user chose, per Meta; undefined when it sent none. */
  time: Date | undefined;
}

export function marketingPreferencesOf(field: string, value: unknown): MarketingPreference[] {
  if (field !== "user_preferences" || typeof value !== "object" || value === null) return [];
  const list = (value as { user_preferences?: unknown }).user_preferences;
  if (!Array.isArray(list)) return [];
  const preferences: MarketingPreference[] = [];
  for (const item of list as unknown[]) {
    if (typeof item !== "object" || item === null) continue;
    const { wa_id: waId, category, value: choice, timestamp } = item as Record<string, unknown>;
    if (typeof waId !== "string" || waId === "") continue;
    if (category !== undefined && category !== "marketing_messages") continue;
    const normalised = typeof choice === "string" ? choice.toLowerCase() : "";
    if (normalised !== "stop" && normalised !== "resume") continue;
    const seconds = typeof timestamp === "number" ? timestamp : typeof timestamp === "string" && /^\d+$/.test(timestamp) ? Number(timestamp) : undefined;
    preferences.push({ waId, optedOut: normalised === "stop", time: seconds === undefined ? undefined : new Date(seconds * 1000) });
  }
  return preferences;
}
