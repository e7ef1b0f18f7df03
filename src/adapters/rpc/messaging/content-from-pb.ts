/** SendMessage's protobuf content → the domain content the use case checks and sends. */
import type { ContactCard } from "../../../domain/inbound.js";
import type {
  InteractiveAction,
  InteractiveHeader,
  MediaKind,
  MediaSource,
  OutboundContent,
  TemplateButtonSubType,
  TemplateComponent,
  TemplateComponentType,
  TemplateParameterValue,
} from "../../../domain/outbound/index.js";
import { DEFAULT_PRIORITY, type SendPriority } from "../../../domain/priority.js";
import type {
  ContactCard as PbContactCard,
  InteractiveContent as PbInteractive,
  MediaSource as PbMediaSource,
  TemplateMessageComponent,
  TemplateMessageParameter,
} from "../../../../gen/whatsapp/v1/message_pb.js";
import type { SendMessageRequest } from "../../../../gen/whatsapp/v1/messaging_pb.js";
import {
  MediaKind as PbMediaKind,
  Priority as PbPriority,
  TemplateMessageComponent_ButtonSubType as PbSubType,
  TemplateMessageComponent_Type as PbComponentType,
} from "../../../../gen/whatsapp/v1/message_pb.js";

type PbContent = SendMessageRequest["content"];

/** undefined when no content is set (protovalidate refuses that before the handler runs). */
export function contentFromPb(content: PbContent): OutboundContent | undefined {
  switch (content.case) {
    case "text":
      return { kind: "text", body: content.value.body, previewUrl: content.value.previewUrl };
    case "media": {
      const m = content.value;
      return {
        kind: "media",
        mediaKind: MEDIA_KINDS[m.kind] ?? "image",
        source: m.source.case === "link" ? { kind: "link", link: m.source.value } : { kind: "id", id: m.source.value ?? "" },
        caption: m.caption,
        filename: m.filename,
      };
    }
    case "location": {
      const l = content.value;
      return { kind: "location", latitude: l.latitude, longitude: l.longitude, name: l.name, address: l.address };
    }
    case "contacts":
      return { kind: "contacts", cards: content.value.contacts.map(contactCardFromPb) };
    case "interactive":
      return interactiveFromPb(content.value);
    case "reaction":
      return { kind: "reaction", messageRef: content.value.messageId, emoji: content.value.emoji };
    case "template":
      return { kind: "template", name: content.value.name, language: content.value.language, components: content.value.components.map(componentFromPb) };
    default:
      return undefined;
  }
}

const MEDIA_KINDS: Partial<Record<PbMediaKind, MediaKind>> = {
  [PbMediaKind.IMAGE]: "image",
  [PbMediaKind.AUDIO]: "audio",
  [PbMediaKind.VIDEO]: "video",
  [PbMediaKind.DOCUMENT]: "document",
  [PbMediaKind.STICKER]: "sticker",
};

export function priorityFromPb(priority: PbPriority): SendPriority {
  switch (priority) {
    case PbPriority.OTP:
      return "otp";
    case PbPriority.MARKETING:
      return "marketing";
    default:
      return DEFAULT_PRIORITY;
  }
}

function sourceFromPb(source: PbMediaSource | undefined): MediaSource {
  const s = source?.source;
  return s?.case === "link" ? { kind: "link", link: s.value } : { kind: "id", id: s?.case === "mediaId" ? s.value : "" };
}

function contactCardFromPb(card: PbContactCard): ContactCard {
  const empty = (v: string) => (v === "" ? undefined : v);
  return {
    name: card.name && {
      formattedName: card.name.formattedName,
      firstName: empty(card.name.firstName),
      lastName: empty(card.name.lastName),
      middleName: empty(card.name.middleName),
      suffix: empty(card.name.suffix),
      prefix: empty(card.name.prefix),
    },
    phones: card.phones.map((p) => ({ phone: empty(p.phone), waId: empty(p.waId), type: empty(p.type) })),
    emails: card.emails.map((e) => ({ email: e.email, type: empty(e.type) })),
    addresses: card.addresses.map((a) => ({
      street: empty(a.street),
      city: empty(a.city),
      state: empty(a.state),
      zip: empty(a.zip),
      country: empty(a.country),
      countryCode: empty(a.countryCode),
      type: empty(a.type),
    })),
    org: card.org && { company: empty(card.org.company), department: empty(card.org.department), title: empty(card.org.title) },
    urls: card.urls.map((u) => ({ url: empty(u.url), type: empty(u.type) })),
    birthday: empty(card.birthday),
  };
}

function interactiveFromPb(pb: PbInteractive): OutboundContent {
  const h = pb.header?.content;
  const header: InteractiveHeader | undefined =
    h === undefined || h.case === undefined ? undefined : h.case === "text" ? { kind: "text", text: h.value } : { kind: h.case, source: sourceFromPb(h.value) };
  const a = pb.action;
  let action: InteractiveAction;
  switch (a.case) {
    case "list":
      action = {
        kind: "list",
        button: a.value.button,
        sections: a.value.sections.map((s) => ({ title: s.title, rows: s.rows.map((r) => ({ id: r.id, title: r.title, description: r.description })) })),
      };
      break;
    case "ctaUrl":
      action = { kind: "cta_url", displayText: a.value.displayText, url: a.value.url };
      break;
    default:
      action = { kind: "buttons", buttons: a.case === "buttons" ? a.value.buttons.map((b) => ({ id: b.id, title: b.title })) : [] };
  }
  return { kind: "interactive", header, body: pb.body, footer: pb.footer, action };
}

const COMPONENT_TYPES: Record<PbComponentType, TemplateComponentType> = {
  [PbComponentType.UNSPECIFIED]: "body",
  [PbComponentType.HEADER]: "header",
  [PbComponentType.BODY]: "body",
  [PbComponentType.BUTTON]: "button",
};

const SUB_TYPES: Partial<Record<PbSubType, TemplateButtonSubType>> = {
  [PbSubType.QUICK_REPLY]: "quick_reply",
  [PbSubType.URL]: "url",
  [PbSubType.COPY_CODE]: "copy_code",
};

function componentFromPb(pb: TemplateMessageComponent): TemplateComponent {
  return {
    type: COMPONENT_TYPES[pb.type] ?? "body",
    subType: SUB_TYPES[pb.subType],
    index: pb.index,
    parameters: pb.parameters.map((p) => ({ parameterName: p.parameterName, value: parameterValueFromPb(p) })),
  };
}

function parameterValueFromPb(pb: TemplateMessageParameter): TemplateParameterValue {
  const v = pb.value;
  switch (v.case) {
    case "currency":
      return { kind: "currency", fallbackValue: v.value.fallbackValue, code: v.value.code, amount1000: Number(v.value.amount1000) };
    case "dateTime":
      return { kind: "date_time", fallbackValue: v.value.fallbackValue };
    case "image":
    case "video":
    case "document":
      return { kind: v.case, source: sourceFromPb(v.value) };
    case "location":
      return { kind: "location", latitude: v.value.latitude, longitude: v.value.longitude, name: v.value.name, address: v.value.address };
    case "payload":
      return { kind: "payload", payload: v.value };
    case "couponCode":
      return { kind: "coupon_code", couponCode: v.value };
    case "text":
      return { kind: "text", text: v.value };
    default:
      return { kind: "text", text: "" };
  }
}
