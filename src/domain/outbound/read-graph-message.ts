/**
 * The stored Graph API message object → the content it was built from, for
 * reading messages back (GetMessage, lists). The inverse of graph-message.ts
 * for every shape it produces; undefined for anything else (a row written
 * by something other than SendMessage, or a future shape).
 */
import type { ContactCard } from "../inbound.js";
import type {
  InteractiveAction,
  InteractiveHeader,
  MediaKind,
  MediaSource,
  OutboundContent,
  TemplateButtonSubType,
  TemplateComponent,
  TemplateParameter,
  TemplateParameterValue,
} from "./content.js";

type Json = Record<string, unknown>;

const obj = (v: unknown): Json => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const num = (v: unknown): number => (typeof v === "number" ? v : typeof v === "string" ? Number(v) : Number.NaN);
const arr = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj) : []);
const opt = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

const MEDIA_KINDS: readonly string[] = ["image", "audio", "video", "document", "sticker"] satisfies MediaKind[];

export function readGraphMessage(stored: unknown): OutboundContent | undefined {
  const body = obj(stored);
  const type = str(body.type);
  const part = obj(body[type]);
  if (MEDIA_KINDS.includes(type)) {
    const source = readSource(part);
    if (!source) return undefined;
    return { kind: "media", mediaKind: type as MediaKind, source, caption: str(part.caption), filename: str(part.filename) };
  }
  switch (type) {
    case "text":
      return { kind: "text", body: str(part.body), previewUrl: part.preview_url === true };
    case "location":
      return { kind: "location", ...readLocation(part) };
    case "contacts":
      return { kind: "contacts", cards: arr(body.contacts).map(readContactCard) };
    case "reaction":
      return { kind: "reaction", messageRef: str(part.message_id), emoji: str(part.emoji) };
    case "interactive":
      return readInteractive(part);
    case "template":
      return { kind: "template", name: str(part.name), language: str(obj(part.language).code), components: arr(part.components).map(readComponent) };
    default:
      return undefined;
  }
}

/** The wamid a stored message quotes (`context.message_id`), if it is a reply. */
export function replyWamidOf(stored: unknown): string | undefined {
  return opt(obj(obj(stored).context).message_id);
}

function readSource(part: Json): MediaSource | undefined {
  if (typeof part.link === "string") return { kind: "link", link: part.link };
  if (typeof part.id === "string") return { kind: "id", id: part.id };
  return undefined;
}

function readLocation(part: Json) {
  return { latitude: num(part.latitude), longitude: num(part.longitude), name: str(part.name), address: str(part.address) };
}

function readContactCard(card: Json): ContactCard {
  const name = obj(card.name);
  const org = card.org === undefined ? undefined : obj(card.org);
  return {
    name: {
      formattedName: opt(name.formatted_name),
      firstName: opt(name.first_name),
      lastName: opt(name.last_name),
      middleName: opt(name.middle_name),
      suffix: opt(name.suffix),
      prefix: opt(name.prefix),
    },
    phones: arr(card.phones).map((p) => ({ phone: opt(p.phone), waId: opt(p.wa_id), type: opt(p.type) })),
    emails: arr(card.emails).map((e) => ({ email: opt(e.email), type: opt(e.type) })),
    addresses: arr(card.addresses).map((a) => ({
      street: opt(a.street),
      city: opt(a.city),
      state: opt(a.state),
      zip: opt(a.zip),
      country: opt(a.country),
      countryCode: opt(a.country_code),
      type: opt(a.type),
    })),
    org: org && { company: opt(org.company), department: opt(org.department), title: opt(org.title) },
    urls: arr(card.urls).map((u) => ({ url: opt(u.url), type: opt(u.type) })),
    birthday: opt(card.birthday),
  };
}

function readHeader(header: Json): InteractiveHeader | undefined {
  const type = str(header.type);
  if (type === "text") return { kind: "text", text: str(header.text) };
  if (type === "image" || type === "video" || type === "document") {
    const source = readSource(obj(header[type]));
    return source && { kind: type, source };
  }
  return undefined;
}

function readInteractive(part: Json): OutboundContent | undefined {
  const action = obj(part.action);
  let read: InteractiveAction;
  switch (str(part.type)) {
    case "button":
      read = { kind: "buttons", buttons: arr(action.buttons).map((b) => ({ id: str(obj(b.reply).id), title: str(obj(b.reply).title) })) };
      break;
    case "list":
      read = {
        kind: "list",
        button: str(action.button),
        sections: arr(action.sections).map((s) => ({
          title: str(s.title),
          rows: arr(s.rows).map((r) => ({ id: str(r.id), title: str(r.title), description: str(r.description) })),
        })),
      };
      break;
    case "cta_url": {
      const parameters = obj(action.parameters);
      read = { kind: "cta_url", displayText: str(parameters.display_text), url: str(parameters.url) };
      break;
    }
    default:
      return undefined;
  }
  return {
    kind: "interactive",
    header: part.header === undefined ? undefined : readHeader(obj(part.header)),
    body: str(obj(part.body).text),
    footer: str(obj(part.footer).text),
    action: read,
  };
}

const SUB_TYPES: readonly string[] = ["quick_reply", "url", "copy_code"] satisfies TemplateButtonSubType[];

function readComponent(component: Json): TemplateComponent {
  const type = str(component.type);
  const subType = str(component.sub_type);
  return {
    type: type === "header" || type === "button" ? type : "body",
    subType: SUB_TYPES.includes(subType) ? (subType as TemplateButtonSubType) : undefined,
    index: type === "button" ? num(component.index) || 0 : 0,
    parameters: arr(component.parameters).flatMap((p) => {
      const value = readParameterValue(p);
      return value ? [{ parameterName: str(p.parameter_name), value } satisfies TemplateParameter] : [];
    }),
  };
}

function readParameterValue(p: Json): TemplateParameterValue | undefined {
  const type = str(p.type);
  switch (type) {
    case "text":
      return { kind: "text", text: str(p.text) };
    case "currency": {
      const c = obj(p.currency);
      return { kind: "currency", fallbackValue: str(c.fallback_value), code: str(c.code), amount1000: num(c.amount_1000) };
    }
    case "date_time":
      return { kind: "date_time", fallbackValue: str(obj(p.date_time).fallback_value) };
    case "image":
    case "video":
    case "document": {
      const source = readSource(obj(p[type]));
      return source && { kind: type, source };
    }
    case "location":
      return { kind: "location", ...readLocation(obj(p.location)) };
    case "payload":
      return { kind: "payload", payload: str(p.payload) };
    case "coupon_code":
      return { kind: "coupon_code", couponCode: str(p.coupon_code) };
    default:
      return undefined;
  }
}
