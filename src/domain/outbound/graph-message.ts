/**
 * A valid content → the Graph API message object (Cloud API reference §5.2)
 * without `messaging_product`, `recipient_type` and `to`, which the provider
 * adds. This is what `messages.content` stores and what the sending work
 * posts, so what is stored is exactly what goes out.
 */
import type { ContactCard } from "../inbound.js";
import type {
  InteractiveContent,
  InteractiveHeader,
  MediaContent,
  MediaSource,
  OutboundContent,
  TemplateComponent,
  TemplateParameter,
} from "./content.js";

/** Same shape as the provider port's GraphMessageBody (ports/whatsapp-provider.ts). */
export type GraphMessage = { type: string; context?: { message_id: string } } & Record<string, unknown>;

/** `replyToWamid`: the wamid quoted by a contextual reply (never with a reaction). */
export function toGraphMessage(content: OutboundContent, replyToWamid?: string): GraphMessage {
  const body = graphBody(content);
  return replyToWamid ? { ...body, context: { message_id: replyToWamid } } : body;
}

function graphBody(content: OutboundContent): GraphMessage {
  switch (content.kind) {
    case "text":
      return { type: "text", text: { body: content.body, ...(content.previewUrl ? { preview_url: true } : {}) } };
    case "media":
      return { type: content.mediaKind, [content.mediaKind]: graphMedia(content) };
    case "location":
      return { type: "location", location: graphLocation(content) };
    case "contacts":
      return { type: "contacts", contacts: content.cards.map(graphContactCard) };
    case "interactive":
      return { type: "interactive", interactive: graphInteractive(content) };
    case "reaction":
      // messageRef has been resolved to the wamid by the use case before this is built.
      return { type: "reaction", reaction: { message_id: content.messageRef, emoji: content.emoji } };
    case "template":
      return {
        type: "template",
        template: {
          name: content.name,
          language: { code: content.language },
          ...(content.components.length > 0 ? { components: content.components.map(graphComponent) } : {}),
        },
      };
  }
}

function graphSource(source: MediaSource): Record<string, string> {
  return source.kind === "link" ? { link: source.link } : { id: source.id };
}

function graphMedia(media: MediaContent): Record<string, string> {
  return {
    ...graphSource(media.source),
    ...(media.caption !== "" ? { caption: media.caption } : {}),
    ...(media.filename !== "" ? { filename: media.filename } : {}),
  };
}

function graphLocation(l: { latitude: number; longitude: number; name: string; address: string }): Record<string, unknown> {
  return { latitude: l.latitude, longitude: l.longitude, ...(l.name ? { name: l.name } : {}), ...(l.address ? { address: l.address } : {}) };
}

/** Only the fields the caller set: Meta shows an empty field as an empty line. */
function compact<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== "")) as Partial<T>;
}

function graphContactCard(card: ContactCard): Record<string, unknown> {
  const name = card.name ?? {};
  return compact({
    name: compact({
      formatted_name: name.formattedName,
      first_name: name.firstName,
      last_name: name.lastName,
      middle_name: name.middleName,
      suffix: name.suffix,
      prefix: name.prefix,
    }),
    birthday: card.birthday,
    phones: card.phones.length ? card.phones.map((p) => compact({ phone: p.phone, type: p.type, wa_id: p.waId })) : undefined,
    emails: card.emails.length ? card.emails.map((e) => compact({ email: e.email, type: e.type })) : undefined,
    addresses: card.addresses.length
      ? card.addresses.map((a) =>
          compact({ street: a.street, city: a.city, state: a.state, zip: a.zip, country: a.country, country_code: a.countryCode, type: a.type }),
        )
      : undefined,
    org: card.org && compact({ company: card.org.company, department: card.org.department, title: card.org.title }),
    urls: card.urls.length ? card.urls.map((u) => compact({ url: u.url, type: u.type })) : undefined,
  });
}

function graphHeader(header: InteractiveHeader): Record<string, unknown> {
  return header.kind === "text" ? { type: "text", text: header.text } : { type: header.kind, [header.kind]: graphSource(header.source) };
}

function graphInteractive(content: InteractiveContent): Record<string, unknown> {
  const action = content.action;
  const common = {
    ...(content.header ? { header: graphHeader(content.header) } : {}),
    body: { text: content.body },
    ...(content.footer !== "" ? { footer: { text: content.footer } } : {}),
  };
  switch (action.kind) {
    case "buttons":
      return { type: "button", ...common, action: { buttons: action.buttons.map((b) => ({ type: "reply", reply: { id: b.id, title: b.title } })) } };
    case "list":
      return {
        type: "list",
        ...common,
        action: {
          button: action.button,
          sections: action.sections.map((s) => ({
            ...(s.title !== "" ? { title: s.title } : {}),
            rows: s.rows.map((r) => ({ id: r.id, title: r.title, ...(r.description !== "" ? { description: r.description } : {}) })),
          })),
        },
      };
    case "cta_url":
      return { type: "cta_url", ...common, action: { name: "cta_url", parameters: { display_text: action.displayText, url: action.url } } };
  }
}

function graphComponent(component: TemplateComponent): Record<string, unknown> {
  const parameters = component.parameters.map(graphParameter);
  if (component.type !== "button") return { type: component.type, parameters };
  // Meta wants the button index as a string.
  return { type: "button", sub_type: component.subType, index: String(component.index), parameters };
}

function graphParameter(parameter: TemplateParameter): Record<string, unknown> {
  const named = parameter.parameterName !== "" ? { parameter_name: parameter.parameterName } : {};
  const value = parameter.value;
  switch (value.kind) {
    case "text":
      return { type: "text", ...named, text: value.text };
    case "currency":
      return { type: "currency", ...named, currency: { fallback_value: value.fallbackValue, code: value.code, amount_1000: value.amount1000 } };
    case "date_time":
      return { type: "date_time", ...named, date_time: { fallback_value: value.fallbackValue } };
    case "image":
    case "video":
    case "document":
      return { type: value.kind, [value.kind]: graphSource(value.source) };
    case "location":
      return { type: "location", location: graphLocation(value) };
    case "payload":
      return { type: "payload", payload: value.payload };
    case "coupon_code":
      return { type: "coupon_code", coupon_code: value.couponCode };
  }
}
