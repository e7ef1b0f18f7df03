/**
 * One-time codes sent over WhatsApp (OtpService): what an OTP is, how a
 * verification attempt is judged, and the limits that apply. The code itself
 * never lives here: only its keyed hash (see code.ts).
 */
import { DomainError } from "../errors.js";

export type OtpState = "pending" | "verified" | "expired" | "locked" | "failed";

/** How a code was verified: through VerifyOtp, or typed back in the chat. */
export type OtpVerifiedVia = "api" | "chat";

export type OtpOutcome = "verified" | "wrong_code" | "expired" | "too_many_attempts" | "not_found" | "already_used";

export interface StoredOtp {
  id: string;
  accountId: string;
  contactId: string | undefined;
  /** Recipient WhatsApp id (E.164 digits, no "+"). */
  waId: string;
  /** The message carrying the code. */
  messageId: string | undefined;
  /** Conversation of that message, when known. */
  conversationId: string | undefined;
  codeHash: string;
  codeSalt: string;
  codeLength: number;
  state: OtpState;
  attempts: number;
  maxAttempts: number;
  requestId: string | undefined;
  metadata: Record<string, string>;
  createTime: Date;
  expireTime: Date;
  resendAvailableTime: Date;
}

/** Limits of SendOtp / VerifyOtp (configuration, see config.ts `otp`). */
export interface OtpPolicy {
  /** Verification attempts per code. */
  maxAttempts: number;
  /** Minimum time between two codes to one phone. */
  resendCooldownMs: number;
  /** Codes per phone in any sliding hour; 0 = no limit. */
  maxPerPhonePerHour: number;
  /** Codes per tenant in any sliding minute; 0 = no limit. */
  maxPerTenantPerMinute: number;
  /** Service-wide AUTHENTICATION template, when neither the request nor the tenant names one. */
  templateName: string | undefined;
  /** Language used when nothing else says which. */
  templateLanguage: string;
}

export const DEFAULT_CODE_LENGTH = 6;
export const DEFAULT_TTL_MS = 10 * 60 * 1000;

/** A change to write on the OTP after an attempt; undefined when nothing changes. */
export interface OtpChange {
  state: OtpState;
  attempts: number;
}

export interface AttemptJudgement {
  outcome: OtpOutcome;
  attemptsRemaining: number;
  change: OtpChange | undefined;
}

/**
 * Judges one VerifyOtp attempt on an OTP locked by the caller. Every attempt
 * on a pending, unexpired OTP counts, the right one included; the attempt
 * that uses up the last one voids the OTP (TOO_MANY_ATTEMPTS) unless it is
 * right. A used, void or expired OTP stays as it is.
 */
export function judgeAttempt(otp: StoredOtp, now: Date, codeMatches: () => boolean): AttemptJudgement {
  switch (otp.state) {
    case "verified":
      return { outcome: "already_used", attemptsRemaining: 0, change: undefined };
    case "locked":
      return { outcome: "too_many_attempts", attemptsRemaining: 0, change: undefined };
    case "expired":
    case "failed":
      return { outcome: "expired", attemptsRemaining: 0, change: undefined };
    case "pending":
      break;
  }
  if (isExpired(otp, now)) return { outcome: "expired", attemptsRemaining: 0, change: { state: "expired", attempts: otp.attempts } };
  if (otp.attempts >= otp.maxAttempts) return { outcome: "too_many_attempts", attemptsRemaining: 0, change: { state: "locked", attempts: otp.attempts } };
  const attempts = otp.attempts + 1;
  if (codeMatches()) return { outcome: "verified", attemptsRemaining: 0, change: { state: "verified", attempts } };
  const remaining = otp.maxAttempts - attempts;
  if (remaining <= 0) return { outcome: "too_many_attempts", attemptsRemaining: 0, change: { state: "locked", attempts } };
  return { outcome: "wrong_code", attemptsRemaining: remaining, change: { state: "pending", attempts } };
}

export function isExpired(otp: Pick<StoredOtp, "expireTime">, now: Date): boolean {
  return now.getTime() >= otp.expireTime.getTime();
}

/** A pending code that can still be verified. */
export function isLive(otp: StoredOtp, now: Date): boolean {
  return otp.state === "pending" && !isExpired(otp, now) && otp.attempts < otp.maxAttempts;
}

/** "otp.verified", as the core sees it. */
export interface OtpVerified {
  eventId: string;
  tenantId: string;
  accountId: string;
  occurredAt: Date;
  otpId: string;
  /** E.164. */
  phone: string;
  via: OtpVerifiedVia;
  /** The inbound message carrying the code (chat only). */
  inboundMessageId: string | undefined;
  conversationId: string | undefined;
  contactId: string | undefined;
  metadata: Record<string, string>;
}

/** SendOtp refused for now (cooldown, rate limit): RESOURCE_EXHAUSTED with when to retry. */
export class OtpLimitError extends DomainError {
  readonly retryAfterMs: number;

  constructor(reason: "OTP_RESEND_COOLDOWN" | "OTP_PHONE_RATE_LIMIT" | "OTP_TENANT_RATE_LIMIT", message: string, retryAfterMs: number) {
    super("resource_exhausted", reason, message);
    this.name = "OtpLimitError";
    this.retryAfterMs = Math.max(0, retryAfterMs);
  }
}
