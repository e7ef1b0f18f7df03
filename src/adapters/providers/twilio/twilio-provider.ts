/**
 * Twilio's WhatsApp API behind the provider port (reference §9.4): `POST
 * /2010-04-01/Accounts/{AccountSid}/Messages.json`, basic auth with the
 * account SID and auth token, a form body with `From`/`To` as
 * `whatsapp:+E164`, the content fields (outbound-form.ts), the account's
 * Messaging Service SID when it has one, and `StatusCallback`.
 *
 * The status callback URL is `PUBLIC_URL/webhook/twilio/{account_id}
 * ?message_id={our id}`. Twilio signs that exact URL, and the message id in
 * it plays the part of Meta's `biz_opaque_callback_data`: a send whose
 * answer was lost (timeout after the request left) is an unknown outcome,
 * never sent again; its status callbacks name it and the sender's
 * reconciliation records the SID from them.
 *
 * Twilio's message SID (`SM…`/`MM…`) is the provider message id.
 */
import { isBsuid } from "../../../domain/contact-identity.js";
import type { OutboundSend, ProviderAccount, ProviderError, SendOutcome, WhatsAppProvider } from "../../../ports/whatsapp-provider.js";
import { nonEmpty, record } from "../meta/json-reader.js";
import { twilioContentFields, type FormFields } from "./outbound-form.js";
import type { TwilioClient } from "./twilio-client.js";
import { CALLBACK_MESSAGE_ID_PARAM } from "./webhook-form.js";

export interface TwilioProviderOptions {
  client: TwilioClient;
  /** PUBLIC_URL: where Twilio posts status callbacks. Unset → no StatusCallback (the sender's or service's own callback applies). */
  publicUrl: string | undefined;
}

/** The path of an account's Twilio webhook, relative to PUBLIC_URL. */
export function twilioWebhookPath(accountId: string): string {
  return `/webhook/twilio/${encodeURIComponent(accountId)}`;
}

/** The status callback URL of one send. */
export function statusCallbackUrl(publicUrl: string, accountId: string, messageId: string): string {
  const base = publicUrl.replace(/\/+$/, "");
  return `${base}${twilioWebhookPath(accountId)}?${CALLBACK_MESSAGE_ID_PARAM}=${encodeURIComponent(messageId)}`;
}

export class TwilioProvider implements WhatsAppProvider {
  readonly #client: TwilioClient;
  readonly #publicUrl: string | undefined;

  constructor(options: TwilioProviderOptions) {
    this.#client = options.client;
    this.#publicUrl = options.publicUrl;
  }

  async send(account: ProviderAccount, message: OutboundSend, signal?: AbortSignal): Promise<SendOutcome> {
    const sid = account.twilioAccountSid;
    const token = account.twilioAuthToken;
    if (!sid || !token) {
      // As Twilio would answer a call without credentials: the account needs fixing, not the message.
      return rejected({ code: 20003, title: "Authentication failed", details: "the account has no twilioAccountSid/twilioAuthToken credentials", httpStatus: 401 });
    }
    if (isBsuid(message.to)) {
      return notSupported("the recipient is known only by a business-scoped user id; Twilio's Messages API addresses WhatsApp users by number");
    }
    const content = twilioContentFields(message.body, account.metadata);
    if (!content.ok) return notSupported(content.reason);

    const fields: FormFields = [
      ["To", `whatsapp:+${message.to}`],
      ["From", `whatsapp:${senderOf(account)}`],
      ...content.fields,
    ];
    if (account.twilioMessagingServiceSid) fields.push(["MessagingServiceSid", account.twilioMessagingServiceSid]);
    if (this.#publicUrl !== undefined) fields.push(["StatusCallback", statusCallbackUrl(this.#publicUrl, account.id, message.messageId)]);

    const result = await this.#client.postForm(`/2010-04-01/Accounts/${encodeURIComponent(sid)}/Messages.json`, fields, { username: sid, password: token }, signal);
    if (result.kind === "error") return rejected(result.error);
    if (result.kind === "no_answer") return result.maybeSent ? { kind: "unknown", error: result.error } : rejected(result.error);
    const messageSid = nonEmpty(record(result.body)?.sid);
    if (messageSid) return { kind: "accepted", providerMessageId: messageSid };
    // 2xx without a SID: Twilio took it, but we cannot follow it by SID; the status callbacks will name it.
    return { kind: "unknown", error: { code: 0, title: "Unreadable answer", details: "2xx answer without a message sid", httpStatus: result.httpStatus } };
  }

  /**
   * Twilio's Messages API has no read receipt for inbound WhatsApp messages
   * (Meta's `status: read`): refused, so the caller is told rather than
   * shown blue ticks that never reached the user.
   */
  async markAsRead(): Promise<SendOutcome> {
    return notSupported("Twilio's Messages API cannot mark inbound WhatsApp messages read");
  }
}

/** The sender: the account's phone number id is its WhatsApp number in E.164 (account-rules.ts). */
function senderOf(account: ProviderAccount): string {
  return /^\+\d+$/.test(account.phoneNumberId) ? account.phoneNumberId : account.displayPhoneNumber;
}

function rejected(error: ProviderError): SendOutcome {
  return { kind: "rejected", error };
}

/** Refused before any call: permanent (a 4xx without a code the policy retries). */
function notSupported(details: string): SendOutcome {
  return rejected({ code: 0, title: "Not supported by Twilio", details, httpStatus: 400 });
}
