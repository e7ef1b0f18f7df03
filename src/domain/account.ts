/**
 * An account is one WhatsApp number of a tenant, reached through one provider.
 * Accounts live in the control schema because inbound webhooks must be routed
 * from a provider number to a tenant before any tenant is known.
 */
export type Provider = "meta" | "twilio" | "sandbox";
export type AccountStatus = "active" | "degraded" | "disabled";

export const DEFAULT_RATE_LIMIT_PER_SECOND = 80;
/** Twilio's default WhatsApp throughput per sender (reference §9.4: 10 msg/s, more on request). */
export const DEFAULT_TWILIO_RATE_LIMIT_PER_SECOND = 10;
export const MAX_RATE_LIMIT_PER_SECOND = 1000;

/**
 * Secrets of an account. Write-only through the API: stored encrypted, never
 * returned, never logged. Each field is optional; which ones a provider needs
 * is checked by the use case.
 */
export interface AccountCredentials {
  /** Meta: system-user access token (Bearer for the Graph API). */
  accessToken?: string;
  /** Meta: the app secret that signs this account's webhooks (own Meta app). */
  appSecret?: string;
  /** Meta: the token Meta echoes in the GET verification of this account's webhook. */
  verifyToken?: string;
  /** Twilio: account SID and auth token. */
  twilioAccountSid?: string;
  twilioAuthToken?: string;
  /**
   * Twilio: the Messaging Service sends go through (`MG…`), optional. Not a
   * secret, but it belongs with the account SID it lives under, so it is kept
   * (and written) with the Twilio credentials.
   */
  twilioMessagingServiceSid?: string;
}

export type CredentialName = keyof AccountCredentials;
export const CREDENTIAL_NAMES: readonly CredentialName[] = [
  "accessToken",
  "appSecret",
  "verifyToken",
  "twilioAccountSid",
  "twilioAuthToken",
  "twilioMessagingServiceSid",
];

export interface Account {
  id: string;
  tenantId: string;
  provider: Provider;
  displayName: string;
  /** Meta's phone number id, the Twilio WhatsApp sender in E.164, or the sandbox id — routes inbound webhooks. */
  phoneNumberId: string;
  /** WhatsApp Business Account id (templates live under it). */
  wabaId: string;
  /** The number as people see it, E.164. */
  displayPhoneNumber: string;
  businessId: string;
  rateLimitPerSecond: number;
  status: AccountStatus;
  /** Which credentials are stored (names only; values never leave the repository encrypted). */
  credentialsSet: CredentialName[];
  metadata: Record<string, string>;
  createTime: Date;
  updateTime: Date;
  deleteTime: Date | null;
}

/** Counts for GetAccountMetrics over a time window. */
export interface AccountMetrics {
  sent: number;
  delivered: number;
  read: number;
  failed: number;
  received: number;
}
