/**
 * One Meta `messages[]` item → the normalised InboundMessage (reference §3.2).
 * Every type Meta documents is read; a type we do not know, or a known type
 * without its object (Meta sends `interactive` with no `interactive` when it
 * cannot render the reply), becomes `unsupported` with the object kept raw.
 */
import {
  waIdToE164,
  type ContactCard,
  type InboundContent,
  type InboundMessage,
  type InboundMessageType,
  type InteractiveReply,
  type MessageContext,
  type ProviderError,
  type Referral,
  type SkippedItem,
} from "../../../domain/inbound.js";
import { flag, list, nonEmpty, number, providerErrors, record, text, unixSeconds, type JsonObject } from "./json-reader.js";

/** What the change around a message says about it. */
export interface MessageSurroundings {
  phoneNumberId: string;
  /** The receiving number, E.164. */
  displayPhoneNumber: string;
  /** Errors of the whole change (`value.errors`): the only explanation of an unreadable message. */
  changeErrors: ProviderError[];
  /** When the delivery arrived: the timestamp of a message that has none. */
  receivedAt: Date;
}

/** What a type's object gives: the content, the message's text, or undefined when the object is missing. */
type Reading = { content?: InboundContent; text: string; unsupportedType?: string; keepRaw?: boolean } | undefined;

const MEDIA_TYPES = new Set(["image", "audio", "video", "document", "sticker"]);

export function parseMessage(item: unknown, around: MessageSurroundings): InboundMessage | SkippedItem {
  const m = record(item);
  const wamid = nonEmpty(m?.id);
  const waId = nonEmpty(m?.from);
  if (!m || !wamid) return { what: "message", reason: "message without an id" };
  // A username adopter's message may name the sender only by its
  // business-scoped user id: `from` is then absent (ADR 0007).
  const fromUserId = nonEmpty(m.from_user_id);
  if (!waId && !fromUserId) return { what: "message", reason: `message ${wamid} without a sender` };

  const declared = text(m.type) ?? "";
  const known = isKnownType(declared);
  const reading = known ? readType(declared, m) : undefined;
  const type: InboundMessageType = known && reading !== undefined ? declared : "unsupported";
  const ownErrors = providerErrors(m.errors);
  const unsupported = type === "unsupported";

  return {
    wamid,
    type,
    from: waId === undefined ? "" : waIdToE164(waId),
    waId: waId ?? "",
    fromUserId,
    to: around.displayPhoneNumber,
    phoneNumberId: around.phoneNumberId,
    provider: "meta",
    timestamp: unixSeconds(m.timestamp) ?? around.receivedAt,
    text: reading?.text ?? "",
    context: readContext(m.context),
    referral: readReferral(m.referral),
    content: reading?.content,
    unsupportedType: unsupported ? (declared === "unsupported" ? (nonEmpty(record(m.unsupported)?.type) ?? "") : declared) : undefined,
    // A message Meta could not render is explained only by the change's errors.
    errors: unsupported && ownErrors.length === 0 ? around.changeErrors : ownErrors,
    raw: unsupported || reading?.keepRaw ? m : undefined,
  };
}

function isKnownType(type: string): type is Exclude<InboundMessageType, "unsupported"> {
  return (
    MEDIA_TYPES.has(type) ||
    ["text", "location", "contacts", "interactive", "button", "reaction", "order", "referral", "system"].includes(type)
  );
}

function readType(type: Exclude<InboundMessageType, "unsupported">, m: JsonObject): Reading {
  if (MEDIA_TYPES.has(type)) return readMedia(type, record(m[type]));
  switch (type) {
    case "text": {
      const body = text(record(m.text)?.body);
      return body === undefined ? undefined : { text: body };
    }
    case "location":
      return readLocation(record(m.location));
    case "contacts": {
      if (!Array.isArray(m.contacts)) return undefined;
      return { text: "", content: { kind: "contacts", contacts: list(m.contacts).map(record).filter(isObject).map(readContactCard) } };
    }
    case "interactive":
      return readInteractive(record(m.interactive));
    case "button": {
      const button = record(m.button);
      if (!button) return undefined;
      const label = text(button.text) ?? "";
      return { text: label, content: { kind: "button", button: { payload: text(button.payload) ?? label, text: label } } };
    }
    case "reaction": {
      const reaction = record(m.reaction);
      if (!reaction) return undefined;
      // Removal: Meta omits `emoji`; real captures also show "".
      const emoji = text(reaction.emoji) ?? "";
      return { text: emoji, content: { kind: "reaction", reaction: { reactedToWamid: text(reaction.message_id) ?? "", emoji } } };
    }
    case "order":
      return readOrder(record(m.order));
    case "system":
      return readSystem(record(m.system), record(m.identity));
    case "referral":
      // Not a type Meta sends today; a message that is only an ad referral.
      return record(m.referral) ? { text: "" } : undefined;
    default:
      return undefined;
  }
}

function isObject(value: JsonObject | undefined): value is JsonObject {
  return value !== undefined;
}

function readMedia(type: string, media: JsonObject | undefined): Reading {
  if (!media) return undefined;
  const caption = text(media.caption);
  return {
    text: caption ?? "",
    content: {
      kind: "media",
      media: {
        mediaId: text(media.id) ?? "",
        mimeType: text(media.mime_type) ?? "",
        sha256: text(media.sha256) ?? "",
        caption,
        filename: text(media.filename),
        voice: type === "audio" ? (flag(media.voice) ?? false) : undefined,
        animated: type === "sticker" ? (flag(media.animated) ?? false) : undefined,
        url: nonEmpty(media.url),
      },
    },
  };
}

function readLocation(location: JsonObject | undefined): Reading {
  const latitude = number(location?.latitude);
  const longitude = number(location?.longitude);
  if (!location || latitude === undefined || longitude === undefined) return undefined;
  return {
    text: "",
    content: {
      kind: "location",
      location: { latitude, longitude, name: text(location.name), address: text(location.address), url: nonEmpty(location.url) },
    },
  };
}

function readContactCard(card: JsonObject): ContactCard {
  const name = record(card.name);
  const org = record(card.org);
  const items = (key: string) => list(card[key]).map(record).filter(isObject);
  return {
    name: name && {
      formattedName: text(name.formatted_name),
      firstName: text(name.first_name),
      lastName: text(name.last_name),
      middleName: text(name.middle_name),
      suffix: text(name.suffix),
      prefix: text(name.prefix),
    },
    phones: items("phones").map((p) => ({ phone: text(p.phone), waId: text(p.wa_id), type: text(p.type) })),
    emails: items("emails").map((e) => ({ email: text(e.email), type: text(e.type) })),
    addresses: items("addresses").map((a) => ({
      street: text(a.street),
      city: text(a.city),
      state: text(a.state),
      zip: text(a.zip),
      country: text(a.country),
      countryCode: text(a.country_code),
      type: text(a.type),
    })),
    org: org && { company: text(org.company), department: text(org.department), title: text(org.title) },
    urls: items("urls").map((u) => ({ url: text(u.url), type: text(u.type) })),
    birthday: text(card.birthday),
  };
}

function readInteractive(interactive: JsonObject | undefined): Reading {
  if (!interactive) return undefined;
  const kind = text(interactive.type);
  const reply = (value: InteractiveReply, shown: string): Reading => ({ text: shown, content: { kind: "interactive", interactive: value } });
  if (kind === "button_reply") {
    const b = record(interactive.button_reply);
    if (!b) return undefined;
    const title = text(b.title) ?? "";
    return reply({ kind: "button_reply", id: text(b.id) ?? "", title }, title);
  }
  if (kind === "list_reply") {
    const l = record(interactive.list_reply);
    if (!l) return undefined;
    const title = text(l.title) ?? "";
    return reply({ kind: "list_reply", id: text(l.id) ?? "", title, description: text(l.description) }, title);
  }
  if (kind === "nfm_reply") {
    const f = record(interactive.nfm_reply);
    if (!f) return undefined;
    const responseJson = text(f.response_json) ?? "";
    const body = text(f.body) ?? "";
    return reply({ kind: "nfm_reply", responseJson, body, name: text(f.name) ?? "", flowToken: flowToken(responseJson) }, body);
  }
  // A reply kind newer than this code: kept raw as unsupported.
  return undefined;
}

/** `flow_token` inside a Flow's response JSON (a string holding JSON), if present. */
function flowToken(responseJson: string): string | undefined {
  try {
    return nonEmpty(record(JSON.parse(responseJson))?.flow_token);
  } catch {
    return undefined;
  }
}

function readOrder(order: JsonObject | undefined): Reading {
  if (!order) return undefined;
  const orderText = text(order.text) ?? "";
  const items = list(order.product_items)
    .map(record)
    .filter(isObject)
    .map((item) => ({
      productRetailerId: text(item.product_retailer_id) ?? "",
      quantity: Math.trunc(number(item.quantity) ?? 0),
      itemPrice: number(item.item_price) ?? 0,
      currency: text(item.currency) ?? "",
    }));
  return { text: orderText, content: { kind: "order", order: { catalogId: text(order.catalog_id) ?? "", text: orderText, items } } };
}

function readSystem(system: JsonObject | undefined, identity: JsonObject | undefined): Reading {
  if (!system) return undefined;
  const body = text(system.body) ?? "";
  return {
    text: body,
    content: {
      kind: "system",
      system: {
        body,
        type: text(system.type) ?? "",
        // `customer` is the older name of the new WhatsApp id.
        newWaId: nonEmpty(system.wa_id) ?? nonEmpty(system.customer),
        newUserId: nonEmpty(system.user_id),
        identity: identity && {
          acknowledged: flag(identity.acknowledged) ?? false,
          createdTime: unixSeconds(identity.created_timestamp),
          hash: text(identity.hash) ?? "",
        },
      },
    },
    // The proto's SystemNotice has no identity: the raw object carries it to listeners.
    keepRaw: identity !== undefined,
  };
}

function readContext(value: unknown): MessageContext | undefined {
  const context = record(value);
  if (!context) return undefined;
  const product = record(context.referred_product);
  const from = nonEmpty(context.from);
  return {
    repliedToWamid: nonEmpty(context.id),
    repliedToFrom: from === undefined ? undefined : waIdToE164(from) || from,
    forwarded: flag(context.forwarded) ?? false,
    frequentlyForwarded: flag(context.frequently_forwarded) ?? false,
    referredProduct: product && {
      catalogId: text(product.catalog_id) ?? "",
      productRetailerId: text(product.product_retailer_id) ?? "",
    },
  };
}

function readReferral(value: unknown): Referral | undefined {
  const referral = record(value);
  if (!referral) return undefined;
  return {
    sourceUrl: text(referral.source_url),
    sourceId: text(referral.source_id),
    sourceType: text(referral.source_type),
    body: text(referral.body),
    headline: text(referral.headline),
    mediaType: text(referral.media_type),
    imageUrl: text(referral.image_url),
    videoUrl: text(referral.video_url),
    thumbnailUrl: text(referral.thumbnail_url),
    ctwaClid: text(referral.ctwa_clid),
    welcomeMessageText: text(record(referral.welcome_message)?.text),
  };
}
