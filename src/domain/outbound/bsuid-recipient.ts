/**
 * Rules Meta attaches to a business-scoped user id (BSUID) recipient, checked
 * before anything is queued (ADR 0007): Meta refuses authentication
 * templates (one-tap, zero-tap, copy-code) to a BSUID with error 131062,
 * since a code must reach a phone number. Refusing here gives the caller
 * the reason at once instead of a failed message later.
 */
import { DomainError } from "../errors.js";
import type { Recipient } from "./recipient.js";

/** ErrorInfo reason of a send Meta does not allow to a BSUID. */
export const BSUID_RECIPIENT_NOT_SUPPORTED = "BSUID_RECIPIENT_NOT_SUPPORTED";
/** ErrorInfo reason of a one-time code for a contact known only by BSUID. */
export const PHONE_NUMBER_REQUIRED = "PHONE_NUMBER_REQUIRED";

export function assertBsuidMayReceive(recipient: Recipient, templateCategory: string | undefined): void {
  if (recipient.bsuid === undefined || templateCategory !== "AUTHENTICATION") return;
  throw new DomainError(
    "failed_precondition",
    BSUID_RECIPIENT_NOT_SUPPORTED,
    `authentication templates cannot be sent to a business-scoped user id (${recipient.bsuid}): WhatsApp delivers one-time codes to phone numbers only; send to the contact's phone number`,
  );
}

/** SendOtp to a contact that has no phone number (a username adopter known only by BSUID). */
export function phoneNumberRequired(bsuid: string): DomainError {
  return new DomainError(
    "failed_precondition",
    PHONE_NUMBER_REQUIRED,
    `the contact ${bsuid} has no known phone number (a WhatsApp username hides it): one-time codes use authentication templates, which WhatsApp delivers to phone numbers only`,
  );
}
