import {
  DEFAULT_RATE_LIMIT_PER_SECOND,
  DEFAULT_TWILIO_RATE_LIMIT_PER_SECOND,
  MAX_RATE_LIMIT_PER_SECOND,
  type AccountCredentials,
  type Provider,
} from "./account.js";
import type { FieldViolation } from "./errors.js";
import { normalisePhoneNumber } from "./phone.js";

/** 0 means "not given" in proto3; the account then gets its provider's default rate (Meta 80/s, Twilio 10/s per sender). */
export function effectiveRateLimit(requested: number, provider: Provider = "meta"): number {
  if (requested !== 0) return requested;
  return provider === "twilio" ? DEFAULT_TWILIO_RATE_LIMIT_PER_SECOND : DEFAULT_RATE_LIMIT_PER_SECOND;
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
        ...(!credentials.twilioAccountSid
          ? [missing("twilio_account_sid")]
          : TWILIO_ACCOUNT_SID.test(credentials.twilioAccountSid)
            ? []
            : [{ field: `${field}.twilio_account_sid`, description: 'must be a Twilio account SID ("AC" and 32 hex digits)' }]),
        ...(credentials.twilioAuthToken ? [] : [missing("twilio_auth_token")]),
        ...(credentials.twilioMessagingServiceSid === undefined || TWILIO_MESSAGING_SERVICE_SID.test(credentials.twilioMessagingServiceSid)
          ? []
          : [{ field: `${field}.twilio_messaging_service_sid`, description: 'must be a Twilio Messaging Service SID ("MG" and 32 hex digits)' }]),
      ];
    case "sandbox":
      return [];
  }
}

const TWILIO_ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
const TWILIO_MESSAGING_SERVICE_SID = /^MG[0-9a-fA-F]{32}$/;
const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * Meta's phone number ids are numeric. A Twilio account is its WhatsApp
 * sender, in E.164: Twilio's webhooks name the number (`To` of an inbound
 * message, `From` of a status), so that is what routes them. Sandbox ids
 * may be anything.
 */
export function checkPhoneNumberId(provider: Provider, value: string, field: string): FieldViolation[] {
  if (value === "") return [{ field, description: "is required" }];
  if (provider === "meta" && !/^\d{1,32}$/.test(value)) {
    return [{ field, description: "must be Meta's numeric phone number id" }];
  }
  if (provider === "twilio" && !E164.test(value)) {
    return [{ field, description: "must be the Twilio WhatsApp sender in E.164, without the whatsapp: prefix (e.g. +14155238886)" }];
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
