/**
 * What providers tell us, normalised: inbound messages of every type, status
 * updates of outbound messages, the sender's profile, and management updates
 * (templates, account, number quality). Provider adapters (Meta, Twilio)
 * produce these; the webhook processing use case consumes them.
 *
 * Optional fields are absent when the provider did not send them; an empty
 * string is what the provider sent.
 */
import type { Provider } from "./account.js";
import type { ReportedStatus } from "./message-status.js";

export type InboundMessageType =
  | "text"
  | "image"
  | "audio"
  | "video"
  | "document"
  | "sticker"
  | "location"
  | "contacts"
  | "interactive"
  | "button"
  | "reaction"
  | "order"
  | "referral"
  | "system"
  | "unsupported";

/** An error as the provider reports it (Meta: `{code, title, message, error_data.details, href}`). */
export interface ProviderError {
  code: number;
  title: string;
  message: string;
  details: string;
  href: string;
}

/** The sender as the provider describes them alongside a message (Meta `contacts[]`). */
export interface ContactProfile {
  /** WhatsApp id: digits, no "+"; "" when the provider named the user only by `userId` (a username adopter). */
  waId: string;
  profileName?: string;
  /** Business-scoped user id ("BSUID", Meta `user_id`). */
  userId?: string;
  /** Meta `parent_user_id`. */
  parentUserId?: string;
  /** Meta `profile.username`. */
  username?: string;
  /** Meta `identity_key_hash`, only when the identity-change check is enabled. */
  identityKeyHash?: string;
}

export interface MessageContext {
  /** wamid of the message replied to. */
  repliedToWamid?: string;
  /** Id in this service of that message, when it is stored here. */
  repliedToMessageId?: string;
  /** Sender of the message replied to, E.164. */
  repliedToFrom?: string;
  /** Forwarded up to 5 times. */
  forwarded: boolean;
  /** Forwarded more than 5 times. */
  frequentlyForwarded: boolean;
  /** "Message business" on a catalog product. */
  referredProduct?: { catalogId: string; productRetailerId: string };
}

/** Click-to-WhatsApp ad referral. */
export interface Referral {
  sourceUrl?: string;
  sourceId?: string;
  sourceType?: string;
  body?: string;
  headline?: string;
  mediaType?: string;
  imageUrl?: string;
  videoUrl?: string;
  thumbnailUrl?: string;
  ctwaClid?: string;
  welcomeMessageText?: string;
}

export interface InboundMedia {
  mediaId: string;
  mimeType: string;
  sha256: string;
  caption?: string;
  filename?: string;
  /** Audio: a push-to-talk voice note. */
  voice?: boolean;
  /** Sticker: animated. */
  animated?: boolean;
  /** Provider's download URL, when sent in the webhook (needs the account's token). */
  url?: string;
}

export interface InboundLocation {
  latitude: number;
  longitude: number;
  name?: string;
  address?: string;
  url?: string;
}

/** A contact card as received; any part may be missing. */
export interface ContactCard {
  name?: {
    formattedName?: string;
    firstName?: string;
    lastName?: string;
    middleName?: string;
    suffix?: string;
    prefix?: string;
  };
  phones: { phone?: string; waId?: string; type?: string }[];
  emails: { email?: string; type?: string }[];
  addresses: {
    street?: string;
    city?: string;
    state?: string;
    zip?: string;
    country?: string;
    countryCode?: string;
    type?: string;
  }[];
  org?: { company?: string; department?: string; title?: string };
  urls: { url?: string; type?: string }[];
  birthday?: string;
}

/** The user's answer to an interactive message. */
export type InteractiveReply =
  | { kind: "button_reply"; id: string; title: string }
  | { kind: "list_reply"; id: string; title: string; description?: string }
  | { kind: "nfm_reply"; responseJson: string; body: string; name: string; flowToken?: string };

export interface OrderItem {
  productRetailerId: string;
  quantity: number;
  itemPrice: number;
  currency: string;
}

export interface SystemNotice {
  body: string;
  /** e.g. `user_changed_number`, `customer_identity_changed`. */
  type: string;
  /** user_changed_number: the new WhatsApp id. */
  newWaId?: string;
  /** user_changed_number: the new business-scoped user id, when Meta sends it (Meta issues one with a new number). */
  newUserId?: string;
  /** customer_identity_changed: Meta's `identity` object. */
  identity?: { acknowledged: boolean; createdTime?: Date; hash: string };
}

/** The type-specific payload; which one is set follows the message type. */
export type InboundContent =
  | { kind: "media"; media: InboundMedia }
  | { kind: "location"; location: InboundLocation }
  | { kind: "contacts"; contacts: ContactCard[] }
  | { kind: "interactive"; interactive: InteractiveReply }
  | { kind: "button"; button: { payload: string; text: string } }
  | { kind: "reaction"; reaction: { reactedToWamid: string; reactedToMessageId?: string; emoji: string } }
  | { kind: "order"; order: { catalogId: string; text: string; items: OrderItem[] } }
  | { kind: "system"; system: SystemNotice };

/** Every inbound message type normalised into one shape (proto InboundMessage). */
export interface InboundMessage {
  /** Provider's message id (Meta wamid); a repeated delivery carries the same one. */
  wamid: string;
  type: InboundMessageType;
  /** Sender, E.164 ("+" and the WhatsApp id's digits); empty when the provider sent no number. */
  from: string;
  /** Sender's WhatsApp id as given (digits, no "+"); "" when only `fromUserId` names the sender. */
  waId: string;
  /** Sender's business-scoped user id (Meta `from_user_id`); at least one of it and `waId` is set. */
  fromUserId?: string;
  /** Receiving business number, E.164. */
  to: string;
  /** Provider id of the receiving number (Meta `metadata.phone_number_id`). */
  phoneNumberId: string;
  provider: Provider;
  /** When the user sent it, per the provider. */
  timestamp: Date;
  /** Body, caption, reply title, button text, emoji, order text, notice body; empty if none. */
  text: string;
  context?: MessageContext;
  referral?: Referral;
  content?: InboundContent;
  /** For `unsupported`: the kind the provider reported, or the type we could not read. */
  unsupportedType?: string;
  errors: ProviderError[];
  /** The provider's message object verbatim, kept when normalisation does not cover all of it. */
  raw?: unknown;
}

export interface Pricing {
  billable?: boolean;
  pricingModel?: string;
  category?: string;
  type?: string;
}

/** Provider-side conversation reported with a status (Meta `conversation`; gone from v24). */
export interface ProviderConversation {
  id: string;
  expireTime?: Date;
  originType?: string;
}

/** A status of an outbound message, as the provider reported it. */
export interface StatusUpdate {
  wamid: string;
  /** What it means for the message (`played` counts as read). */
  status: ReportedStatus;
  /** The provider's own word for it (`played`, `read`…). */
  providerStatus: string;
  timestamp: Date;
  /** Recipient's WhatsApp id (or group id for group sends); "" when Meta names the recipient only by `recipientUserId`. */
  recipientId: string;
  /** Recipient's business-scoped user id (Meta `recipient_user_id`). */
  recipientUserId?: string;
  errors: ProviderError[];
  pricing?: Pricing;
  conversation?: ProviderConversation;
  /** Meta `biz_opaque_callback_data`, echoed from the send. */
  bizOpaqueCallbackData?: string;
  /** The provider's status object verbatim. */
  raw: unknown;
}

/** `message_template_status_update`. */
export interface TemplateStatusUpdate {
  /** Provider's template id (an integer in Meta's JSON; kept as text). */
  templateId: string;
  name: string;
  language: string;
  /** `APPROVED`, `REJECTED`, `PAUSED`, `FLAGGED`… */
  event: string;
  reason?: string;
  category?: string;
  rejection?: { reason: string; recommendation: string };
  other?: { title: string; description: string };
  disableTime?: Date;
}

/** `account_update`. */
export interface AccountUpdate {
  /** `ACCOUNT_RESTRICTION`, `ACCOUNT_VIOLATION`, `DISABLED_UPDATE`, `ACCOUNT_DELETED`… */
  event: string;
  restrictions: { type: string; expireTime?: Date }[];
  violationType?: string;
  ban?: { state: string; date: string };
}

/** `phone_number_quality_update`. */
export interface PhoneNumberQualityUpdate {
  event: string;
  displayPhoneNumber: string;
  currentLimit?: string;
  oldLimit?: string;
  maxDailyConversationsPerBusiness?: string;
}

/** A management update, read as far as we know its field. */
export type ProviderUpdateDetails =
  | { kind: "template_status"; template: TemplateStatusUpdate }
  | { kind: "account"; account: AccountUpdate }
  | { kind: "phone_number_quality"; quality: PhoneNumberQualityUpdate }
  | { kind: "errors"; errors: ProviderError[] }
  | { kind: "other" };

/** A part of a delivery about one business number: messages it received, statuses of what it sent. */
export interface MessagingChange {
  kind: "messaging";
  provider: Provider;
  /** WhatsApp Business Account id (Meta `entry[].id`). */
  wabaId: string;
  /** Routes the change to an account; empty when the provider sent none. */
  phoneNumberId: string;
  /** The receiving number, E.164. */
  displayPhoneNumber: string;
  contacts: ContactProfile[];
  messages: InboundMessage[];
  statuses: StatusUpdate[];
  /** System, app or account-level errors of the change (Meta `value.errors`). */
  errors: ProviderError[];
  /** Items that could not be read (no id, unknown status); logged, never retried. */
  skipped: SkippedItem[];
  /** The change's `value` verbatim (kept when no account claims it). */
  raw: unknown;
}

/** A management part of a delivery (templates, account, quality, preferences…). */
export interface ManagementChange {
  kind: "management";
  provider: Provider;
  field: string;
  wabaId: string;
  /** When the update names one number (e.g. `user_preferences`). */
  phoneNumberId?: string;
  event?: string;
  /** When it happened, per the provider (Meta `entry[].time`). */
  time?: Date;
  details: ProviderUpdateDetails;
  raw: unknown;
}

export type InboundChange = MessagingChange | ManagementChange;

export interface SkippedItem {
  what: "message" | "status";
  reason: string;
}

/** One webhook delivery, read: its changes in the order the provider listed them. */
export interface InboundDelivery {
  changes: InboundChange[];
}

/** "+" and the digits of a WhatsApp id, or "" when it is not a number (E.164 allows at most 15 digits). */
export function waIdToE164(waId: string): string {
  return /^[1-9]\d{5,14}$/.test(waId) ? `+${waId}` : "";
}

/** The message as one line for listeners: its text, or a short description of what it is. */
export function describeInbound(message: InboundMessage): string {
  if (message.text !== "") return message.text;
  const content = message.content;
  switch (content?.kind) {
    case "media":
      return `[${message.type}]`;
    case "location": {
      const place = [content.location.name, content.location.address].filter((p) => p !== undefined && p !== "").join(", ");
      return place === "" ? `[location ${content.location.latitude},${content.location.longitude}]` : `[location] ${place}`;
    }
    case "contacts": {
      const names = content.contacts.map((c) => c.name?.formattedName ?? c.phones[0]?.phone ?? "").filter((n) => n !== "");
      return names.length === 0 ? "[contacts]" : `[contacts] ${names.join(", ")}`;
    }
    case "reaction":
      return content.reaction.emoji === "" ? "[reaction removed]" : content.reaction.emoji;
    case "order":
      return `[order] ${content.order.items.length} item(s)`;
    case "interactive":
    case "button":
    case "system":
      return `[${message.type}]`;
    case undefined:
      return message.type === "unsupported" ? `[unsupported${message.unsupportedType ? `: ${message.unsupportedType}` : ""}]` : `[${message.type}]`;
  }
}

/**
 * Whether the message is the user writing to the business, which opens (or
 * renews) the 24-hour customer-service window. System notices are WhatsApp
 * speaking, not the user.
 */
export function opensServiceWindow(message: InboundMessage): boolean {
  return message.type !== "system";
}
