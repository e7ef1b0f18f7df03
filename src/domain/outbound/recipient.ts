import { parsePhoneNumberFromString } from "libphonenumber-js/max";

import { isBsuid, isParentBsuid } from "../contact-identity.js";

/**
 * Who a message goes to: E.164 and the WhatsApp id (the same digits without
 * "+"), or — for a user who hides their number — only a business-scoped
 * user id (then `e164` and `waId` are "").
 */
export interface Recipient {
  e164: string;
  waId: string;
  bsuid?: string;
}

/** A phone number (see normaliseRecipient) or a BSUID (not a parent BSUID: a contact is keyed by its own). */
export function parseRecipient(input: string): Recipient | undefined {
  const trimmed = input.trim();
  if (isBsuid(trimmed) && !isParentBsuid(trimmed)) return { e164: "", waId: "", bsuid: trimmed };
  return normaliseRecipient(input);
}

/** What the provider is given and `messages.recipient` stores: the WhatsApp id, or the BSUID. */
export function recipientAddress(recipient: Recipient): string {
  return recipient.bsuid ?? recipient.waId;
}

/** The recipient for people: E.164, or the BSUID. */
export function describeRecipient(recipient: Recipient): string {
  return recipient.bsuid ?? recipient.e164;
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
