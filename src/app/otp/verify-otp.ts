import { DomainError } from "../../domain/errors.js";
import { normaliseRecipient } from "../../domain/outbound/index.js";
import { codeMatches, judgeAttempt, type OtpOutcome, type OtpVerifiedVia, type StoredOtp } from "../../domain/otp/index.js";
import type { OtpStore, OtpTransaction } from "../../ports/otp-store.js";

export interface VerifyOtpDeps {
  otps: OtpStore;
  codeKey: Buffer;
  newId: () => string;
  now: () => Date;
}

export type VerifyTarget = { otpId: string } | { phone: string; accountId: string | undefined };

export interface VerifyOtpResult {
  outcome: OtpOutcome;
  attemptsRemaining: number;
  /** "" for not_found. */
  otpId: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Checks a code against one OTP, locked for the transaction: two
 * verifications of one OTP run one after the other, so a code verifies once
 * and every attempt is counted. A verification publishes otp.verified in
 * the same transaction.
 */
export async function verifyOtp(deps: VerifyOtpDeps, tenantId: string, target: VerifyTarget, code: string): Promise<VerifyOtpResult> {
  const notFound: VerifyOtpResult = { outcome: "not_found", attemptsRemaining: 0, otpId: "" };
  let waId: string | undefined;
  if ("phone" in target) {
    waId = normaliseRecipient(target.phone)?.waId;
    if (!waId) throw DomainError.invalid([{ field: "phone", description: "must be a phone number in E.164 that can exist in its country" }]);
    if (target.accountId !== undefined && !UUID.test(target.accountId)) return notFound;
  } else if (!UUID.test(target.otpId)) return notFound;

  return deps.otps.inTransaction(tenantId, async (otps) => {
    if (!otps.tenantKnown) return notFound;
    const otp = "otpId" in target ? await otps.lockOtp(target.otpId) : await otps.lockLatestOtp(waId!, target.accountId);
    if (!otp) return notFound;
    return attempt(otps, deps, tenantId, otp, code, { via: "api", inboundMessageId: undefined });
  });
}

/** Judges and records one attempt on a locked OTP; publishes otp.verified when it verifies. */
export async function attempt(
  otps: OtpTransaction,
  deps: Pick<VerifyOtpDeps, "codeKey" | "newId" | "now">,
  tenantId: string,
  otp: StoredOtp,
  code: string,
  how: { via: OtpVerifiedVia; inboundMessageId: string | undefined },
): Promise<VerifyOtpResult> {
  const now = deps.now();
  const judgement = judgeAttempt(otp, now, () => codeMatches(deps.codeKey, otp, code));
  const verified = judgement.outcome === "verified";
  if (judgement.change) await otps.updateOtp(otp.id, judgement.change, verified ? { at: now, via: how.via } : undefined);
  if (verified) {
    await otps.appendVerified({
      eventId: deps.newId(),
      tenantId,
      accountId: otp.accountId,
      occurredAt: now,
      otpId: otp.id,
      phone: `+${otp.waId}`,
      via: how.via,
      inboundMessageId: how.inboundMessageId,
      conversationId: otp.conversationId,
      contactId: otp.contactId,
      metadata: otp.metadata,
    });
  }
  return { outcome: judgement.outcome, attemptsRemaining: judgement.attemptsRemaining, otpId: otp.id };
}
