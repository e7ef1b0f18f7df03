import type { OtpChange, OtpVerified, OtpVerifiedVia, StoredOtp } from "../domain/otp/otp.js";
import type { OutboundTransaction } from "./outbound-store.js";

/**
 * Storage of one-time codes. `inTransaction` runs one tenant-scoped
 * transaction in which the OTP row, the message carrying the code (through
 * the send path's OutboundTransaction), its send job and the events commit
 * together or not at all. Another tenant's OTPs are not found.
 */
export interface OtpStore {
  inTransaction<T>(tenantId: string, work: (otps: OtpTransaction, outbound: OutboundTransaction) => Promise<T>): Promise<T>;
}

export interface NewOtp {
  id: string;
  accountId: string;
  contactId: string;
  waId: string;
  messageId: string;
  codeHash: string;
  codeSalt: string;
  codeLength: number;
  maxAttempts: number;
  requestId: string | undefined;
  templateName: string;
  templateLanguage: string;
  metadata: Record<string, string>;
  createTime: Date;
  expireTime: Date;
  resendAvailableTime: Date;
}

/** What recent sends a rate limit sees. */
export interface SendCount {
  count: number;
  /** The oldest send counted (for when the window frees a slot). */
  oldest: Date | undefined;
}

/** One tenant's OTP tables inside a transaction. */
export interface OtpTransaction {
  /** False when the tenant has no data at all (no schema yet): nothing can be found. */
  readonly tenantKnown: boolean;
  /** Serialises work on `key` (a phone, a request id) across replicas until the transaction ends. */
  lock(key: string): Promise<void>;
  otpByRequestId(requestId: string): Promise<StoredOtp | undefined>;
  /** The WhatsApp id of the contact with this BSUID, if it has one. */
  phoneOfBsuid(bsuid: string): Promise<string | undefined>;
  /** Frees the request id of an expired OTP, so a new OTP may take it. */
  releaseRequestId(otpId: string): Promise<void>;
  /** The latest resend time of codes sent to the phone (any account), if any. */
  resendAvailableTime(waId: string): Promise<Date | undefined>;
  /** Codes sent since `since`: to `waId` when given, else by the whole tenant. */
  countSentSince(since: Date, waId?: string): Promise<SendCount>;
  /** The tenant's default OTP template (tenant_settings), if set. */
  tenantTemplate(): Promise<{ name: string | undefined; language: string | undefined }>;
  /** Languages of the APPROVED AUTHENTICATION template `name` of the account's WABA. */
  approvedTemplateLanguages(wabaId: string, name: string): Promise<string[]>;
  /** Ends the pending codes of the phone from this account: a new code replaces them. */
  supersedePending(waId: string, accountId: string): Promise<void>;
  insertOtp(otp: NewOtp): Promise<void>;
  /** The OTP, locked for update. */
  lockOtp(otpId: string): Promise<StoredOtp | undefined>;
  /** The phone's latest OTP (from `accountId` when given), locked for update. */
  lockLatestOtp(waId: string, accountId: string | undefined): Promise<StoredOtp | undefined>;
  updateOtp(otpId: string, change: OtpChange, verified: { at: Date; via: OtpVerifiedVia } | undefined): Promise<void>;
  appendVerified(event: OtpVerified): Promise<void>;
}
