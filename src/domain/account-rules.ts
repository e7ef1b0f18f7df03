import {
  DEFAULT_RATE_LIMIT_PER_SECOND,
  MAX_RATE_LIMIT_PER_SECOND,
  type AccountCredentials,
  type Provider,
} from "./account.js";
import type { FieldViolation } from "./errors.js";
import { normalisePhoneNumber } from "./phone.js";

/** 0 means "not given" in proto3; the account then gets Meta's default tier rate. */
export function effectiveRateLimit(requested: number): number {
  return requested === 0 ? DEFAULT_RATE_LIMIT_PER_SECOND : requested;
}

export function checkRateLimit(value: number, field: string): FieldViolation[] {
  if (!Number.isInteger(value) || value < 1 || value > MAX_RATE_LIMIT_PER_SECOND) {
    return [{ field, description: `must be from 1 to ${MAX_RATE_LIMIT_PER_SECOND} messages per second` }];
  }
  return [];
}

/**
 * Credentials a provider cannot work without. Checked on create and on any
 * update that touches credentials, against the merged result.
 */
export function checkCredentials(provider: Provider, credentials: AccountCredentials, field: string): FieldViolation[] {
  const missing = (name: string) => ({ field: `${field}.${name}`, description: `required for provider ${provider.toUpperCase()}` });
  switch (provider) {
    case "meta":
      return credentials.accessToken ? [] : [missing("access_token")];
    case "twilio":
      return [
        ...(credentials.twilioAccountSid ? [] : [missing("twilio_account_sid")]),
        ...(credentials.twilioAuthToken ? [] : [missing("twilio_auth_token")]),
      ];
    case "sandbox":
      return [];
  }
}

/** Meta's phone number ids are numeric; Twilio and sandbox senders may be any id. */
export function checkPhoneNumberId(provider: Provider, value: string, field: string): FieldViolation[] {
  if (value === "") return [{ field, description: "is required" }];
  if (provider === "meta" && !/^\d{1,32}$/.test(value)) {
    return [{ field, description: "must be Meta's numeric phone number id" }];
  }
  return [];
}

/** Returns the E.164 form, or a violation; empty stays empty (the number is optional). */
export function normaliseDisplayPhoneNumber(value: string, field: string): { value: string; violations: FieldViolation[] } {
  if (value === "") return { value, violations: [] };
  const normalised = normalisePhoneNumber(value);
  if (normalised === undefined) return { value, violations: [{ field, description: "is not a valid phone number (E.164, e.g. +14155552671)" }] };
  return { value: normalised, violations: [] };
}
