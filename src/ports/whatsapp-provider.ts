import type { Provider } from "../domain/account.js";

/**
 * The one port every WhatsApp provider (Meta Cloud API, Twilio, the built-in
 * sandbox) implements for sending. The send path stores what to send in
 * Meta's own shape (the Graph API message object), because WhatsApp's format
 * is the lingua franca here; other providers translate from it.
 */

/** What the provider needs of the account: ids and decrypted credentials. Never logged. */
export interface ProviderAccount {
  id: string;
  tenantId: string;
  provider: Provider;
  phoneNumberId: string;
  wabaId: string;
  accessToken?: string;
  twilioAccountSid?: string;
  twilioAuthToken?: string;
  /** Twilio: the Messaging Service the sends go through, when the account has one (`MG…`). */
  twilioMessagingServiceSid?: string;
  /** The sender number (E.164) for providers that address by number (Twilio). */
  displayPhoneNumber: string;
  /** The account's metadata; Twilio reads its template → Content SID mapping from it (ADR 0013). */
  metadata?: Readonly<Record<string, string>>;
}

/**
 * The Graph API message object without `messaging_product`, `recipient_type`
 * and `to`: e.g. `{ type: "text", text: { body, preview_url } }`,
 * `{ type: "template", template: { name, language: { code }, components } }`,
 * with an optional `context: { message_id }` for replies. See the reference §5.2.
 */
export type GraphMessageBody = { type: string; context?: { message_id: string } } & Record<string, unknown>;

export interface OutboundSend {
  /** Our message id (for logs and idempotency on the provider side when supported). */
  messageId: string;
  /** Recipient WhatsApp id: E.164 digits without `+`. */
  to: string;
  body: GraphMessageBody;
}

export interface ProviderError {
  /** Meta's numeric error code (e.g. 131026), or the provider's equivalent; 0 for network/unknown. */
  code: number;
  title: string;
  details: string;
  /** HTTP status of the provider's answer, 0 when there was none (network error, timeout). */
  httpStatus: number;
}

export type SendOutcome =
  | { kind: "accepted"; providerMessageId: string }
  | { kind: "rejected"; error: ProviderError }
  /**
   * The request may have reached the provider but no answer came (timeout
   * after the request was written, connection reset mid-answer): it may
   * have been accepted. Sending again could deliver it twice; the sender
   * reconciles it from status webhooks instead (see app/messaging/deliver-send.ts).
   */
  | { kind: "unknown"; error: ProviderError };

export interface WhatsAppProvider {
  send(account: ProviderAccount, message: OutboundSend, signal?: AbortSignal): Promise<SendOutcome>;
  /** Marks an inbound message read (blue ticks), optionally showing a typing indicator. */
  markAsRead(account: ProviderAccount, providerMessageId: string, typingIndicator: boolean, signal?: AbortSignal): Promise<SendOutcome>;
}

/** Resolves the provider implementation for an account. */
export interface ProviderRegistry {
  forAccount(account: ProviderAccount): WhatsAppProvider;
}
