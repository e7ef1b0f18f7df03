import { parsePhoneNumberFromString } from "libphonenumber-js/max";

/** Who a message goes to: E.164 and the WhatsApp id (the same digits without "+"). */
export interface Recipient {
  e164: string;
  waId: string;
}

/**
 * Normalises a recipient number ("+593 98 765 4321", "593987654321") to E.164.
 *
 * Accepts numbers that are *possible* for their country rather than strictly
 * valid: WhatsApp ids keep legacy mobile forms that libphonenumber no longer
 * calls valid — Mexico's `52 1 …` (13 digits) above all — and those are
 * exactly the ids Meta reports for the user, so they must be sendable as
 * given. The digits are kept as the caller wrote them; nothing is inserted
 * or dropped, so the WhatsApp id matches the contact the webhook created.
 */
export function normaliseRecipient(input: string): Recipient | undefined {
  const digits = input.trim().replace(/^\+|^00/, "").replace(/[\s().-]/g, "");
  if (!/^[1-9]\d{6,14}$/.test(digits)) return undefined;
  if (!isPossible(digits) && !isPossible(withoutLegacyMobileToken(digits))) return undefined;
  return { e164: `+${digits}`, waId: digits };
}

function isPossible(digits: string): boolean {
  return parsePhoneNumberFromString(`+${digits}`)?.isPossible() ?? false;
}

/** Mexico's mobile "1" after the country code (`521…` → `52…`), which WhatsApp ids still carry. */
function withoutLegacyMobileToken(digits: string): string {
  return /^521\d{10}$/.test(digits) ? `52${digits.slice(3)}` : digits;
}
