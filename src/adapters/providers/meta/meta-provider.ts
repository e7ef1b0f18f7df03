/**
 * The Meta WhatsApp Cloud API behind the provider port: `POST
 * /{version}/{phone_number_id}/messages` with the account's bearer token
 * (reference §5). The message body is stored in Graph's own shape, so
 * sending adds only the envelope.
 *
 * `biz_opaque_callback_data` carries our message id unless the caller set
 * one: Meta echoes it in every status webhook of the message, which is how a
 * send whose answer was lost (timeout, crash) is matched to its wamid later
 * without sending it again.
 */
import { isBsuid } from "../../../domain/contact-identity.js";
import type { OutboundSend, ProviderAccount, SendOutcome, WhatsAppProvider } from "../../../ports/whatsapp-provider.js";
import type { GraphClient } from "./graph-client.js";
import { list, nonEmpty, record } from "./json-reader.js";

export class MetaProvider implements WhatsAppProvider {
  readonly #graph: GraphClient;

  constructor(graph: GraphClient) {
    this.#graph = graph;
  }

  async send(account: ProviderAccount, message: OutboundSend, signal?: AbortSignal): Promise<SendOutcome> {
    const body = {
      biz_opaque_callback_data: message.messageId,
      ...message.body,
      messaging_product: "whatsapp",
      recipient_type: "individual",
      // With the "+", Meta reads the number as international; without it, Meta
      // prepends the business number's country code (reference §5.1). A user
      // known only by BSUID is addressed in `recipient`, never `to` (ADR 0007).
      ...(isBsuid(message.to) ? { recipient: message.to } : { to: `+${message.to}` }),
    };
    return this.#post(account, body, signal, (json) => nonEmpty(record(list(record(json)?.messages)[0])?.id));
  }

  async markAsRead(account: ProviderAccount, providerMessageId: string, typingIndicator: boolean, signal?: AbortSignal): Promise<SendOutcome> {
    const body = {
      messaging_product: "whatsapp",
      status: "read",
      message_id: providerMessageId,
      ...(typingIndicator ? { typing_indicator: { type: "text" } } : {}),
    };
    return this.#post(account, body, signal, () => providerMessageId);
  }

  async #post(account: ProviderAccount, body: unknown, signal: AbortSignal | undefined, idFrom: (json: unknown) => string | undefined): Promise<SendOutcome> {
    if (!account.accessToken) {
      // As Meta would answer a call without a token: the account needs fixing, not the message.
      return { kind: "rejected", error: { code: 190, title: "No access token", details: "the account has no accessToken credential", httpStatus: 401 } };
    }
    const result = await this.#graph.post(`${encodeURIComponent(account.phoneNumberId)}/messages`, body, account.accessToken, signal);
    if (result.kind === "error") return { kind: "rejected", error: result.error };
    if (result.kind === "no_answer") return result.maybeSent ? { kind: "unknown", error: result.error } : { kind: "rejected", error: result.error };
    const id = idFrom(result.body);
    if (id) return { kind: "accepted", providerMessageId: id };
    // 2xx without a message id: Meta took it, but we cannot follow it by wamid.
    return { kind: "unknown", error: { code: 0, title: "Unreadable answer", details: "2xx answer without messages[0].id", httpStatus: result.httpStatus } };
  }
}
