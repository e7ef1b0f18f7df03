/** Domain content (read back from the stored Graph API object) → the Message resource's content oneof. */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { contactCardToPb } from "../../events/inbound-message-pb.js";

import type { MediaKind, MediaSource, OutboundContent, TemplateComponent, TemplateParameterValue } from "../../../domain/outbound/index.js";
import {
  MediaKind as PbMediaKind,
  TemplateMessageComponent_ButtonSubType as PbSubType,
  TemplateMessageComponent_Type as PbComponentType,
  type MediaSourceSchema,
  type MessageSchema,
  type TemplateMessageComponentSchema,
  type TemplateMessageParameterSchema,
} from "../../../../gen/whatsapp/v1/message_pb.js";

type ContentInit = NonNullable<MessageInitShape<typeof MessageSchema>["content"]>;

const MEDIA_KINDS: Record<MediaKind, PbMediaKind> = {
  image: PbMediaKind.IMAGE,
  audio: PbMediaKind.AUDIO,
  video: PbMediaKind.VIDEO,
  document: PbMediaKind.DOCUMENT,
  sticker: PbMediaKind.STICKER,
};

export function outboundContentToPb(content: OutboundContent): ContentInit {
  switch (content.kind) {
    case "text":
      return { case: "text", value: { body: content.body, previewUrl: content.previewUrl } };
    case "media":
      return {
        case: "media",
        value: {
          kind: MEDIA_KINDS[content.mediaKind],
          source: content.source.kind === "link" ? { case: "link", value: content.source.link } : { case: "mediaId", value: content.source.id },
          caption: content.caption,
          filename: content.filename,
        },
      };
    case "location":
      return { case: "location", value: { latitude: content.latitude, longitude: content.longitude, name: content.name, address: content.address } };
    case "contacts":
      return { case: "contacts", value: { contacts: content.cards.map(contactCardToPb) } };
    case "reaction":
      return { case: "reaction", value: { messageId: content.messageRef, emoji: content.emoji } };
    case "template":
      return { case: "template", value: { name: content.name, language: content.language, components: content.components.map(componentToPb) } };
    case "interactive": {
      const header = content.header;
      const action = content.action;
      return {
        case: "interactive",
        value: {
          header: header && { content: header.kind === "text" ? { case: "text", value: header.text } : { case: header.kind, value: sourceToPb(header.source) } },
          body: content.body,
          footer: content.footer,
          action:
            action.kind === "buttons"
              ? { case: "buttons", value: { buttons: action.buttons } }
              : action.kind === "list"
                ? { case: "list", value: { button: action.button, sections: action.sections } }
                : { case: "ctaUrl", value: { displayText: action.displayText, url: action.url } },
        },
      };
    }
  }
}

function sourceToPb(source: MediaSource): MessageInitShape<typeof MediaSourceSchema> {
  return { source: source.kind === "link" ? { case: "link", value: source.link } : { case: "mediaId", value: source.id } };
}


const COMPONENT_TYPES = { header: PbComponentType.HEADER, body: PbComponentType.BODY, button: PbComponentType.BUTTON } as const;
const SUB_TYPES = { quick_reply: PbSubType.QUICK_REPLY, url: PbSubType.URL, copy_code: PbSubType.COPY_CODE } as const;

function componentToPb(component: TemplateComponent): MessageInitShape<typeof TemplateMessageComponentSchema> {
  return {
    type: COMPONENT_TYPES[component.type],
    subType: component.subType ? SUB_TYPES[component.subType] : PbSubType.UNSPECIFIED,
    index: component.index,
    parameters: component.parameters.map((p) => ({ parameterName: p.parameterName, value: parameterValueToPb(p.value) })),
  };
}

function parameterValueToPb(value: TemplateParameterValue): MessageInitShape<typeof TemplateMessageParameterSchema>["value"] {
  switch (value.kind) {
    case "text":
      return { case: "text", value: value.text };
    case "currency":
      return {
        case: "currency",
        value: { fallbackValue: value.fallbackValue, code: value.code, amount1000: BigInt(Number.isSafeInteger(value.amount1000) ? value.amount1000 : 0) },
      };
    case "date_time":
      return { case: "dateTime", value: { fallbackValue: value.fallbackValue } };
    case "image":
    case "video":
    case "document":
      return { case: value.kind, value: sourceToPb(value.source) };
    case "location":
      return { case: "location", value: { latitude: value.latitude, longitude: value.longitude, name: value.name, address: value.address } };
    case "payload":
      return { case: "payload", value: value.payload };
    case "coupon_code":
      return { case: "couponCode", value: value.couponCode };
  }
}
