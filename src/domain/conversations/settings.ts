import { DomainError, type FieldViolation } from "../errors.js";
import { DEFAULT_OPT_IN_KEYWORDS, DEFAULT_OPT_OUT_KEYWORDS, MAX_KEYWORD_LENGTH, normaliseKeyword, type KeywordLists } from "./keywords.js";

/** What a tenant stored (tenant_settings); undefined = the service default. */
export interface StoredConversationSettings {
  optOutKeywords: readonly string[] | undefined;
  optInKeywords: readonly string[] | undefined;
  inactivityTimeoutSeconds: number | undefined;
  /** Undefined while nothing was ever set. */
  updateTime: Date | undefined;
}

/** The settings in effect. */
export interface ConversationSettings extends KeywordLists {
  inactivityTimeoutSeconds: number;
  updateTime: Date | undefined;
}

export const NO_STORED_SETTINGS: StoredConversationSettings = {
  optOutKeywords: undefined,
  optInKeywords: undefined,
  inactivityTimeoutSeconds: undefined,
  updateTime: undefined,
};

export const MIN_INACTIVITY_TIMEOUT_SECONDS = 60;
export const MAX_INACTIVITY_TIMEOUT_SECONDS = 30 * 24 * 60 * 60;
export const MAX_KEYWORDS = 100;

export function effectiveSettings(stored: StoredConversationSettings, defaultTimeoutSeconds: number): ConversationSettings {
  return {
    optOut: stored.optOutKeywords ?? DEFAULT_OPT_OUT_KEYWORDS,
    optIn: stored.optInKeywords ?? DEFAULT_OPT_IN_KEYWORDS,
    inactivityTimeoutSeconds: stored.inactivityTimeoutSeconds ?? defaultTimeoutSeconds,
    updateTime: stored.updateTime,
  };
}

/** A change to the settings: a field present is set; `null` restores the default. */
export interface SettingsChange {
  optOutKeywords?: readonly string[] | null;
  optInKeywords?: readonly string[] | null;
  inactivityTimeoutSeconds?: number | null;
}

/**
 * Checks and tidies a change: keywords trimmed, blank or duplicate ones (in
 * their compared form) dropped, an empty list meaning "the default".
 */
export function prepareSettingsChange(change: SettingsChange): SettingsChange {
  const violations: FieldViolation[] = [];
  const prepared: SettingsChange = {};
  for (const [key, field] of [
    ["optOutKeywords", "opt_out_keywords"],
    ["optInKeywords", "opt_in_keywords"],
  ] as const) {
    const list = change[key];
    if (list === undefined) continue;
    if (list === null) {
      prepared[key] = null;
      continue;
    }
    const seen = new Set<string>();
    const kept: string[] = [];
    list.forEach((keyword, index) => {
      const compared = normaliseKeyword(keyword);
      if (compared === "") violations.push({ field: `${field}[${index}]`, description: "must contain a letter or digit" });
      else if (compared.length > MAX_KEYWORD_LENGTH) violations.push({ field: `${field}[${index}]`, description: `must be at most ${MAX_KEYWORD_LENGTH} characters` });
      else if (!seen.has(compared)) {
        seen.add(compared);
        kept.push(keyword.trim());
      }
    });
    if (kept.length > MAX_KEYWORDS) violations.push({ field, description: `takes at most ${MAX_KEYWORDS} keywords` });
    prepared[key] = kept.length === 0 ? null : kept;
  }
  const timeout = change.inactivityTimeoutSeconds;
  if (timeout !== undefined) {
    if (timeout === null || timeout === 0) prepared.inactivityTimeoutSeconds = null;
    else if (!Number.isInteger(timeout) || timeout < MIN_INACTIVITY_TIMEOUT_SECONDS || timeout > MAX_INACTIVITY_TIMEOUT_SECONDS) {
      violations.push({
        field: "inactivity_timeout_seconds",
        description: `must be 0 (the default) or from ${MIN_INACTIVITY_TIMEOUT_SECONDS} to ${MAX_INACTIVITY_TIMEOUT_SECONDS} seconds`,
      });
    } else prepared.inactivityTimeoutSeconds = timeout;
  }
  if (violations.length > 0) throw DomainError.invalid(violations);
  return prepared;
}
