import { phoneNumberRequired } from "../../domain/outbound/bsuid-recipient.js";
import { DomainError } from "../../domain/errors.js";
import { normaliseRecipient, type SendRequest } from "../../domain/outbound/index.js";
import {
  authTemplateContent,
  DEFAULT_CODE_LENGTH,
  DEFAULT_TTL_MS,
  generateCode,
  hashCode,
  newSalt,
  OtpLimitError,
  type OtpPolicy,
  type StoredOtp,
} from "../../domain/otp/index.js";
import type { OtpStore, OtpTransaction } from "../../ports/otp-store.js";
import { templateOwnerKey } from "../../domain/templates/index.js";
import { assertSendable, queueMessage } from "../messaging/send-message.js";

export interface SendOtpDeps {
  otps: OtpStore;
  policy: OtpPolicy;
  /** HMAC key for codes (deriveCodeKey). */
  codeKey: Buffer;
  /** Seals a code for the queued message, bound to the recipient (see domain/otp/sealed-code.ts). */
  sealCode: (code: string, recipientWaId: string) => string;
  newId: () => string;
  now: () => Date;
}

export interface SendOtpCommand {
  accountId: string;
  /** "" when `userId` names the recipient. */
  phone: string;
  /** The recipient's BSUID instead of a phone (SendOtpRequest.user_id); "" for none. */
  userId?: string;
  /** "" = generate `codeLength` digits here. */
  code: string;
  /** 0 = DEFAULT_CODE_LENGTH. */
  codeLength: number;
  /** undefined = DEFAULT_TTL_MS. */
  ttlMs: number | undefined;
  templateName: string;
  templateLanguage: string;
  requestId: string;
  metadata: Record<string, string>;
}

export interface SendOtpResult {
  otpId: string;
  messageId: string;
  /** E.164. */
  phone: string;
  expireTime: Date;
  resendAvailableTime: Date;
  maxAttempts: number;
  /** The request id named an earlier, still valid OTP: nothing was sent. */
  duplicate: boolean;
}

const HOUR_MS = 60 * 60 * 1000;
const MINUTE_MS = 60 * 1000;

/**
 * Sends a one-time code: in ONE tenant transaction returns the OTP an
 * earlier call with the same request id created (while it is valid), or
 * checks the resend cooldown and the per-phone and per-tenant limits
 * (serialised per phone across replicas), queues the AUTHENTICATION
 * template at OTP priority with the code sealed, replaces the phone's
 * pending codes from this account and stores the OTP with only the code's
 * keyed hash.
 */
export async function sendOtp(deps: SendOtpDeps, tenantId: string, command: SendOtpCommand): Promise<SendOtpResult> {
  // Authentication templates reach phone numbers only (ADR 0007): a BSUID
  // stands for the phone its contact has, and a contact without one is refused.
  if (command.userId) {
    const userId = command.userId;
    const waId = await deps.otps.inTransaction(tenantId, async (otps) => (otps.tenantKnown ? otps.phoneOfBsuid(userId) : undefined));
    if (!waId) throw phoneNumberRequired(userId);
    return sendOtp(deps, tenantId, { ...command, userId: "", phone: `+${waId}` });
  }
  const recipient = normaliseRecipient(command.phone);
  if (!recipient) throw DomainError.invalid([{ field: "phone", description: "must be a phone number in E.164 that can exist in its country" }]);
  const code = command.code !== "" ? command.code : generateCode(command.codeLength || DEFAULT_CODE_LENGTH);
  const ttlMs = command.ttlMs ?? DEFAULT_TTL_MS;

  return deps.otps.inTransaction(tenantId, async (otps, outbound) => {
    const account = otps.tenantKnown ? await outbound.account(command.accountId) : undefined;
    if (!account) throw DomainError.notFound("account", command.accountId);
    const now = deps.now();

    if (command.requestId !== "") {
      await otps.lock(`request:${command.requestId}`);
      const first = await otps.otpByRequestId(command.requestId);
      if (first && first.expireTime > now) {
        if (first.waId !== recipient.waId || first.accountId !== account.id) {
          throw new DomainError("failed_precondition", "OTP_REQUEST_ID_REUSED", "request_id names an OTP sent to another phone or from another account");
        }
        return resultOf(first, true);
      }
      if (first) await otps.releaseRequestId(first.id);
    }

    await otps.lock(`phone:${recipient.waId}`);
    await assertWithinLimits(otps, deps.policy, recipient.waId, now);

    // Templates belong to the WABA, or to the account itself when it has none (sandbox).
    const owner = templateOwnerKey(account);
    const template = await chooseTemplate(otps, deps.policy, owner, command);
    // Checked here, in the OTP's transaction, not by the send path's template check (its own read would
    // wait behind this transaction on PGlite's single connection): no surprise 132001 from Meta.
    if (!(await otps.approvedTemplateLanguages(owner, template.name)).includes(template.language)) {
      throw new DomainError(
        "failed_precondition",
        "TEMPLATE_NOT_APPROVED",
        `${template.name} (${template.language}) is not an approved AUTHENTICATION template of this account's WhatsApp Business Account; create it with TemplateService and wait for Meta's approval`,
      );
    }
    const request: SendRequest = {
      accountId: account.id,
      to: recipient.e164,
      content: authTemplateContent(template.name, template.language, code),
      replyTo: "",
      idempotencyKey: "",
      priority: "otp",
      metadata: command.metadata,
    };
    assertSendable(request);
    const sealed = { ...request, content: authTemplateContent(template.name, template.language, deps.sealCode(code, recipient.waId)) };
    const { message } = await queueMessage(outbound, deps, tenantId, sealed);

    await otps.supersedePending(recipient.waId, account.id);
    const otpId = deps.newId();
    const salt = newSalt();
    const expireTime = new Date(now.getTime() + ttlMs);
    const resendAvailableTime = new Date(now.getTime() + deps.policy.resendCooldownMs);
    await otps.insertOtp({
      id: otpId,
      accountId: account.id,
      contactId: message.contact.id,
      waId: recipient.waId,
      messageId: message.id,
      codeHash: hashCode(deps.codeKey, salt, otpId, code),
      codeSalt: salt,
      codeLength: code.length,
      maxAttempts: deps.policy.maxAttempts,
      requestId: command.requestId || undefined,
      templateName: template.name,
      templateLanguage: template.language,
      metadata: command.metadata,
      createTime: now,
      expireTime,
      resendAvailableTime,
    });
    return { otpId, messageId: message.id, phone: recipient.e164, expireTime, resendAvailableTime, maxAttempts: deps.policy.maxAttempts, duplicate: false };
  });
}

function resultOf(otp: StoredOtp, duplicate: boolean): SendOtpResult {
  return {
    otpId: otp.id,
    messageId: otp.messageId ?? "",
    phone: `+${otp.waId}`,
    expireTime: otp.expireTime,
    resendAvailableTime: otp.resendAvailableTime,
    maxAttempts: otp.maxAttempts,
    duplicate,
  };
}

/** Cooldown, then per-phone and per-tenant windows, counted in PostgreSQL so replicas share them. */
async function assertWithinLimits(otps: OtpTransaction, policy: OtpPolicy, waId: string, now: Date): Promise<void> {
  const resendAt = await otps.resendAvailableTime(waId);
  if (resendAt && resendAt > now) {
    throw new OtpLimitError("OTP_RESEND_COOLDOWN", `a code was sent to this phone recently; a new one may be sent from ${resendAt.toISOString()}`, resendAt.getTime() - now.getTime());
  }
  if (policy.maxPerPhonePerHour > 0) {
    const sent = await otps.countSentSince(new Date(now.getTime() - HOUR_MS), waId);
    if (sent.count >= policy.maxPerPhonePerHour) {
      throw new OtpLimitError("OTP_PHONE_RATE_LIMIT", `at most ${policy.maxPerPhonePerHour} codes per phone per hour`, retryAfter(sent.oldest, HOUR_MS, now));
    }
  }
  if (policy.maxPerTenantPerMinute > 0) {
    const sent = await otps.countSentSince(new Date(now.getTime() - MINUTE_MS));
    if (sent.count >= policy.maxPerTenantPerMinute) {
      throw new OtpLimitError("OTP_TENANT_RATE_LIMIT", `at most ${policy.maxPerTenantPerMinute} codes per minute for this tenant`, retryAfter(sent.oldest, MINUTE_MS, now));
    }
  }
}

function retryAfter(oldest: Date | undefined, windowMs: number, now: Date): number {
  return oldest ? oldest.getTime() + windowMs - now.getTime() : windowMs;
}

/**
 * The template: the request's, else the tenant's default (tenant_settings),
 * else the service's (OTP_TEMPLATE_NAME). The language: the request's, else
 * the tenant's default for that same template, else the one language the
 * template is approved in for the account's WABA, else OTP_TEMPLATE_LANGUAGE.
 */
async function chooseTemplate(otps: OtpTransaction, policy: OtpPolicy, templateOwner: string, command: SendOtpCommand): Promise<{ name: string; language: string }> {
  const tenant = await otps.tenantTemplate();
  const name = command.templateName || tenant.name || policy.templateName;
  if (!name) {
    throw new DomainError(
      "failed_precondition",
      "OTP_TEMPLATE_NOT_SET",
      "no OTP template: name an AUTHENTICATION template in template_name, or set the tenant's or the service's default (OTP_TEMPLATE_NAME)",
    );
  }
  if (command.templateLanguage) return { name, language: command.templateLanguage };
  if (tenant.language && (!tenant.name || tenant.name === name)) return { name, language: tenant.language };
  const approved = await otps.approvedTemplateLanguages(templateOwner, name);
  if (approved.length === 1) return { name, language: approved[0]! };
  if (approved.length > 1 && !approved.includes(policy.templateLanguage)) {
    throw DomainError.invalid([{ field: "template_language", description: `template ${name} exists in several languages (${approved.join(", ")}); name one` }]);
  }
  return { name, language: policy.templateLanguage };
}
