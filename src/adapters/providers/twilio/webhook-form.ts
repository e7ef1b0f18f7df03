/**
 * A Twilio webhook request (reference §9.1, §9.2) → the same domain changes
 * the Meta parser produces (`InboundDelivery` of one `MessagingChange`), so
 * the inbound pipeline stores, deduplicates and publishes both alike.
 *
 * Twilio posts one thing per request, form-encoded:
 *
 * - an inbound message (no `MessageStatus`): text, media (`NumMedia`,
 *   `MediaUrlN`, `MediaContentTypeN`), location (`Latitude`, `Longitude`,
 *   `Address`, `Label`), button and list replies (`ButtonPayload`,
 *   `ButtonText`, `ListId`, `ListTitle`), profile (`ProfileName`, `WaId`,
 *   `ExternalUserId` = the BSUID, read like Meta's `user_id`), replies
 *   (`OriginalRepliedMessageSid`), forwards and ad referrals;
 * - a status callback (`MessageStatus`): sent, delivered, read; `failed`
 *   and `undelivered` with `ErrorCode`/`ErrorMessage` become `failed`.
 *   Twilio's interim states (queued, sending, accepted, scheduled…) say
 *   nothing a stored message does not know already: they are reported as
 *   skipped, never applied.
 *
 * The business number routes the change: `To` of an inbound message, `From`
 * of a status. It is the account's `phone_number_id` (the sender in E.164;
 * the `whatsapp:` prefix is the channel, not the number).
 *
 * Twilio adds parameters without notice (§9.1): unknown ones are ignored for
 * the normalised shape and kept in `raw`.
 */
import { isBsuid } from "../../../domain/contact-identity.js";
import {
  waIdToE164,
  type ContactProfile,
  type InboundContent,
  type InboundDelivery,
  type InboundMessage,
  type InboundMessageType,
  type MessageContext,
  type MessagingChange,
  type ProviderError,
  type Referral,
  type SkippedItem,
  type StatusUpdate,
} from "../../../domain/inbound.js";
import type { ReportedStatus } from "../../../domain/message-status.js";
import { MalformedWebhookError } from "../meta/webhook-payload.js";
import { TWILIO_ERROR_TITLES } from "./twilio-errors.js";

export { MalformedWebhookError };

export interface TwilioParseOptions {
  /** When the request arrived: Twilio's requests carry no time of their own. */
  receivedAt: Date;
  /**
   * Path and query the request was posted to. The status callback URL of a
   * send carries our message id (`?message_id=`), which is how a send whose
   * answer was lost is matched to its SID later (see twilio-provider.ts).
   */
  url?: string;
}

/** The query parameter of our status callback URLs naming our message. */
export const CALLBACK_MESSAGE_ID_PARAM = "message_id";

/** A form body as ordered name/value pairs (a name may repeat), form-decoded. */
export function readForm(body: Uint8Array | string): [string, string][] {
  const text = typeof body === "string" ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
  return [...new URLSearchParams(text)];
}

/** Parses the raw body bytes of a Twilio webhook request. */
export function parseTwilioWebhookBody(body: Uint8Array | string, options: TwilioParseOptions): InboundDelivery {
  return parseTwilioWebhook(readForm(body), options);
}

export function parseTwilioWebhook(pairs: readonly (readonly [string, string])[], options: TwilioParseOptions): InboundDelivery {
  const form = new Map<string, string>();
  // A repeated name keeps its first value (Twilio does not repeat names; a forger might).
  for (const [name, value] of pairs) if (!form.has(name)) form.set(name, value);
  const get = (name: string): string | undefined => {
    const value = form.get(name);
    return value === undefined || value === "" ? undefined : value;
  };
  const messageSid = get("MessageSid") ?? get("SmsMessageSid") ?? get("SmsSid");
  if (!messageSid) throw new MalformedWebhookError("form has no MessageSid: not a Twilio messaging webhook");
  if (!get("AccountSid")) throw new MalformedWebhookError(`form of ${messageSid} has no AccountSid`);
  const raw: Record<string, string> = Object.fromEntries(form);
  const messageStatus = get("MessageStatus");
  const change = messageStatus === undefined ? inboundChange(messageSid, get, raw, options) : statusChange(messageSid, messageStatus, get, raw, options);
  return { changes: [change] };
}

type Get = (name: string) => string | undefined;

/** `whatsapp:+14155238886` → `+14155238886`; `whatsapp:ID.123` → `ID.123`. */
export function withoutChannel(address: string | undefined): string {
  if (address === undefined) return "";
  return address.startsWith("whatsapp:") ? address.slice("whatsapp:".length) : address;
}

/** The digits of an E.164 address (a WhatsApp id), or "" when it is not a number. */
function digitsOf(address: string): string {
  return /^\+[1-9]\d{5,14}$/.test(address) ? address.slice(1) : "";
}

function emptyChange(businessNumber: string, raw: Record<string, string>): MessagingChange {
  const number = /^\+[1-9]\d{5,14}$/.test(businessNumber) ? businessNumber : "";
  return {
    kind: "messaging",
    provider: "twilio",
    wabaId: "",
    phoneNumberId: number,
    displayPhoneNumber: number,
    contacts: [],
    messages: [],
    statuses: [],
    errors: [],
    skipped: [],
    raw,
  };
}

function inboundChange(messageSid: string, get: Get, raw: Record<string, string>, options: TwilioParseOptions): MessagingChange {
  const change = emptyChange(withoutChannel(get("To")), raw);
  const fromAddress = withoutChannel(get("From"));
  // WaId is the number's digits; a username adopter may come with only the BSUID.
  const waId = get("WaId") ?? digitsOf(fromAddress);
  const externalUserId = withoutChannel(get("ExternalUserId"));
  const fromUserId = isBsuid(externalUserId) ? externalUserId : isBsuid(fromAddress) ? fromAddress : undefined;
  if (waId === "" && fromUserId === undefined) {
    change.skipped.push({ what: "message", reason: `message ${messageSid} without a sender` });
    return change;
  }
  change.contacts.push(contactOf(waId, fromUserId, get("ProfileName")));
  const reading = readContent(get);
  const message: InboundMessage = {
    wamid: messageSid,
    type: reading.type,
    from: waIdToE164(waId),
    waId,
    fromUserId,
    to: change.displayPhoneNumber,
    phoneNumberId: change.phoneNumberId,
    provider: "twilio",
    timestamp: options.receivedAt,
    text: reading.text,
    context: contextOf(get),
    referral: referralOf(get),
    content: reading.content,
    unsupportedType: reading.type === "unsupported" ? (get("MessageType") ?? "") : undefined,
    errors: [],
    raw: reading.keepRaw ? raw : undefined,
  };
  change.messages.push(message);
  return change;
}

function contactOf(waId: string, userId: string | undefined, profileName: string | undefined): ContactProfile {
  const contact: ContactProfile = { waId };
  if (profileName !== undefined) contact.profileName = profileName;
  if (userId !== undefined) contact.userId = userId;
  return contact;
}

interface Reading {
  type: InboundMessageType;
  text: string;
  content?: InboundContent;
  /** Kept verbatim when the normalised shape does not hold all of it (several media, an unknown type). */
  keepRaw?: boolean;
}

/** Message types Twilio reports that carry nothing we could read beyond the body. */
const TEXT_TYPES = new Set(["text", ""]);

function readContent(get: Get): Reading {
  const body = get("Body") ?? "";
  const declared = get("MessageType") ?? "";
  const numMedia = Number(get("NumMedia") ?? "0");
  if (Number.isInteger(numMedia) && numMedia > 0) {
    const url = get("MediaUrl0");
    if (url !== undefined) {
      const mimeType = get("MediaContentType0") ?? "";
      const type = mediaType(declared, mimeType);
      return {
        type,
        text: body,
        content: {
          kind: "media",
          media: {
            // The media SID (`ME…`, the URL's last segment) plays the part of Meta's media id.
            mediaId: /\/Media\/([^/?#]+)/.exec(url)?.[1] ?? "",
            mimeType,
            sha256: "",
            caption: body === "" ? undefined : body,
            voice: type === "audio" ? false : undefined,
            animated: type === "sticker" ? false : undefined,
            url,
          },
        },
        // WhatsApp carries one media per message; anything beyond the first stays in raw.
        keepRaw: numMedia > 1,
      };
    }
  }
  const latitude = Number(get("Latitude"));
  const longitude = Number(get("Longitude"));
  if (get("Latitude") !== undefined && get("Longitude") !== undefined && Number.isFinite(latitude) && Number.isFinite(longitude)) {
    const location = { latitude, longitude, name: get("Label"), address: get("Address") };
    return { type: "location", text: "", content: { kind: "location", location } };
  }
  const listId = get("ListId");
  if (listId !== undefined) {
    const title = get("ListTitle") ?? body;
    return { type: "interactive", text: title, content: { kind: "interactive", interactive: { kind: "list_reply", id: listId, title } } };
  }
  const payload = get("ButtonPayload");
  const buttonText = get("ButtonText");
  if (payload !== undefined || buttonText !== undefined) {
    const label = buttonText ?? body;
    // Twilio reports a reply button of an interactive message as `interactive`
    // (Meta: interactive.button_reply); a template's quick reply as a button.
    if (declared === "interactive") {
      return { type: "interactive", text: label, content: { kind: "interactive", interactive: { kind: "button_reply", id: payload ?? label, title: label } } };
    }
    return { type: "button", text: label, content: { kind: "button", button: { payload: payload ?? label, text: label } } };
  }
  if (TEXT_TYPES.has(declared) || body !== "") return { type: "text", text: body };
  return { type: "unsupported", text: "", keepRaw: true };
}

/** Twilio's MessageType when it names a media type, else the MIME type's family. */
function mediaType(declared: string, mimeType: string): InboundMessageType {
  if (declared === "image" || declared === "audio" || declared === "video" || declared === "document" || declared === "sticker") return declared;
  if (mimeType === "image/webp") return "sticker";
  if (mimeType.startsWith("image/")) return "image";
  if (mimeType.startsWith("audio/")) return "audio";
  if (mimeType.startsWith("video/")) return "video";
  return "document";
}

function contextOf(get: Get): MessageContext | undefined {
  const repliedTo = get("OriginalRepliedMessageSid");
  const forwarded = get("Forwarded") === "true";
  const frequentlyForwarded = get("FrequentlyForwarded") === "true";
  if (repliedTo === undefined && !forwarded && !frequentlyForwarded) return undefined;
  const context: MessageContext = { forwarded, frequentlyForwarded };
  if (repliedTo !== undefined) context.repliedToWamid = repliedTo;
  const repliedFrom = withoutChannel(get("OriginalRepliedMessageSender"));
  if (repliedFrom !== "") context.repliedToFrom = repliedFrom;
  return context;
}

function referralOf(get: Get): Referral | undefined {
  const referral: Referral = {
    sourceUrl: get("ReferralSourceUrl"),
    sourceId: get("ReferralSourceId"),
    sourceType: get("ReferralSourceType"),
    body: get("ReferralBody"),
    headline: get("ReferralHeadline"),
    mediaType: get("ReferralMediaContentType"),
    imageUrl: get("ReferralMediaUrl"),
    ctwaClid: get("ReferralCtwaClid"),
  };
  const present = Object.entries(referral).filter(([, value]) => value !== undefined);
  return present.length === 0 ? undefined : (Object.fromEntries(present) as Referral);
}

/** Twilio's MessageStatus → what it means for our message; undefined for interim states. */
export function reportedStatusFromTwilio(status: string): ReportedStatus | undefined {
  switch (status) {
    case "sent":
    case "delivered":
    case "read":
    case "failed":
      return status;
    case "undelivered":
      return "failed";
    default:
      return undefined;
  }
}

function statusChange(messageSid: string, messageStatus: string, get: Get, raw: Record<string, string>, options: TwilioParseOptions): MessagingChange {
  const change = emptyChange(withoutChannel(get("From")), raw);
  const status = reportedStatusFromTwilio(messageStatus);
  if (!status) {
    const skipped: SkippedItem = { what: "status", reason: `Twilio status ${JSON.stringify(messageStatus)} of ${messageSid} changes nothing here` };
    change.skipped.push(skipped);
    return change;
  }
  const recipient = withoutChannel(get("To"));
  const ourMessageId = callbackMessageId(options.url);
  const update: StatusUpdate = {
    wamid: messageSid,
    status,
    providerStatus: messageStatus,
    timestamp: options.receivedAt,
    recipientId: digitsOf(recipient),
    recipientUserId: isBsuid(recipient) ? recipient : undefined,
    errors: status === "failed" ? errorsOf(get) : [],
    // The reconciliation of a lost send answer looks for our message id under
    // Meta's name for the echoed field; the callback URL gave it to us.
    raw: ourMessageId === undefined ? raw : { ...raw, biz_opaque_callback_data: ourMessageId },
  };
  if (ourMessageId !== undefined) update.bizOpaqueCallbackData = ourMessageId;
  change.statuses.push(update);
  return change;
}

function errorsOf(get: Get): ProviderError[] {
  const code = Number(get("ErrorCode") ?? "");
  if (!Number.isInteger(code) || code === 0) return [];
  const title = TWILIO_ERROR_TITLES[code] ?? get("ErrorMessage") ?? `Twilio error ${code}`;
  return [{ code, title, message: get("ErrorMessage") ?? title, details: "", href: `https://www.twilio.com/docs/errors/${code}` }];
}

function callbackMessageId(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const at = url.indexOf("?");
  if (at === -1) return undefined;
  const id = new URLSearchParams(url.slice(at + 1)).get(CALLBACK_MESSAGE_ID_PARAM);
  return id !== null && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id) ? id : undefined;
}
