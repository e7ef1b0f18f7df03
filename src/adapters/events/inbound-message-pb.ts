import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";

import type { ContactCard, InboundContent, InboundMessage, InteractiveReply, ProviderError } from "../../domain/inbound.js";
import { ProviderErrorSchema, type ProviderError as PbProviderError } from "../../../gen/whatsapp/v1/common_pb.js";
import {
  InboundMessageSchema,
  type ContactCardSchema,
  type InboundMessage as PbInboundMessage,
  type InteractiveReplySchema,
} from "../../../gen/whatsapp/v1/message_pb.js";
import { messageTypeToPb, providerToPb } from "./message-enums.js";

type ContentInit = NonNullable<MessageInitShape<typeof InboundMessageSchema>["content"]>;

/** The normalised message as carried by message.received (proto InboundMessage). */
export function inboundMessageToPb(message: InboundMessage, messageId: string): PbInboundMessage {
  const context = message.context;
  const referral = message.referral;
  return create(InboundMessageSchema, {
    messageId,
    wamid: message.wamid,
    type: messageTypeToPb(message.type),
    from: message.from,
    waId: message.waId,
    fromUserId: message.fromUserId ?? "",
    to: message.to,
    phoneNumberId: message.phoneNumberId,
    provider: providerToPb(message.provider),
    timestamp: timestampFromDate(message.timestamp),
    text: message.text,
    context: context && {
      repliedToWamid: context.repliedToWamid ?? "",
      repliedToMessageId: context.repliedToMessageId ?? "",
      repliedToFrom: context.repliedToFrom ?? "",
      forwarded: context.forwarded,
      frequentlyForwarded: context.frequentlyForwarded,
      referredProduct: context.referredProduct,
    },
    referral: referral && {
      sourceUrl: referral.sourceUrl ?? "",
      sourceId: referral.sourceId ?? "",
      sourceType: referral.sourceType ?? "",
      body: referral.body ?? "",
      headline: referral.headline ?? "",
      mediaType: referral.mediaType ?? "",
      imageUrl: referral.imageUrl ?? "",
      videoUrl: referral.videoUrl ?? "",
      thumbnailUrl: referral.thumbnailUrl ?? "",
      ctwaClid: referral.ctwaClid ?? "",
      welcomeMessageText: referral.welcomeMessageText ?? "",
    },
    content: message.content ? contentToPb(message.content) : { case: undefined },
    unsupportedType: message.unsupportedType ?? "",
    errors: message.errors.map(providerErrorToPb),
    rawJson: message.raw === undefined ? "" : JSON.stringify(message.raw),
  });
}

export function providerErrorToPb(error: ProviderError): PbProviderError {
  return create(ProviderErrorSchema, {
    code: error.code,
    title: error.title,
    message: error.message,
    details: error.details,
    href: error.href,
  });
}

function contentToPb(content: InboundContent): ContentInit {
  switch (content.kind) {
    case "media": {
      const m = content.media;
      return {
        case: "media",
        value: {
          mediaId: m.mediaId,
          mimeType: m.mimeType,
          sha256: m.sha256,
          caption: m.caption ?? "",
          filename: m.filename ?? "",
          voice: m.voice ?? false,
          animated: m.animated ?? false,
          url: m.url ?? "",
        },
      };
    }
    case "location": {
      const l = content.location;
      return { case: "location", value: { latitude: l.latitude, longitude: l.longitude, name: l.name ?? "", address: l.address ?? "", url: l.url ?? "" } };
    }
    case "contacts":
      return { case: "contacts", value: { contacts: content.contacts.map(contactCardToPb) } };
    case "interactive":
      return { case: "interactive", value: { reply: interactiveToPb(content.interactive) } };
    case "button":
      return { case: "button", value: { payload: content.button.payload, text: content.button.text } };
    case "reaction": {
      const r = content.reaction;
      return { case: "reaction", value: { reactedToWamid: r.reactedToWamid, reactedToMessageId: r.reactedToMessageId ?? "", emoji: r.emoji } };
    }
    case "order": {
      const o = content.order;
      return {
        case: "order",
        value: {
          catalogId: o.catalogId,
          text: o.text,
          items: o.items.map((i) => ({
            productRetailerId: i.productRetailerId,
            quantity: BigInt(i.quantity),
            itemPrice: i.itemPrice,
            currency: i.currency,
          })),
        },
      };
    }
    case "system": {
      const s = content.system;
      const identity = s.identity && {
        acknowledged: s.identity.acknowledged,
        createTime: s.identity.createdTime && timestampFromDate(s.identity.createdTime),
        hash: s.identity.hash,
      };
      return { case: "system", value: { body: s.body, type: s.type, newWaId: s.newWaId ?? "", identity } };
    }
  }
}

function interactiveToPb(reply: InteractiveReply): NonNullable<MessageInitShape<typeof InteractiveReplySchema>["reply"]> {
  switch (reply.kind) {
    case "button_reply":
      return { case: "buttonReply", value: { id: reply.id, title: reply.title } };
    case "list_reply":
      return { case: "listReply", value: { id: reply.id, title: reply.title, description: reply.description ?? "" } };
    case "nfm_reply":
      return { case: "nfmReply", value: { responseJson: reply.responseJson, body: reply.body, name: reply.name, flowToken: reply.flowToken ?? "" } };
  }
}

/** A contact card (inbound or outbound: the same shape) as its protobuf message. */
export function contactCardToPb(card: ContactCard): MessageInitShape<typeof ContactCardSchema> {
  const name = card.name;
  return {
    name: name && {
      formattedName: name.formattedName ?? "",
      firstName: name.firstName ?? "",
      lastName: name.lastName ?? "",
      middleName: name.middleName ?? "",
      suffix: name.suffix ?? "",
      prefix: name.prefix ?? "",
    },
    phones: card.phones.map((p) => ({ phone: p.phone ?? "", waId: p.waId ?? "", type: p.type ?? "" })),
    emails: card.emails.map((e) => ({ email: e.email ?? "", type: e.type ?? "" })),
    addresses: card.addresses.map((a) => ({
      street: a.street ?? "",
      city: a.city ?? "",
      state: a.state ?? "",
      zip: a.zip ?? "",
      country: a.country ?? "",
      countryCode: a.countryCode ?? "",
      type: a.type ?? "",
    })),
    org: card.org && { company: card.org.company ?? "", department: card.org.department ?? "", title: card.org.title ?? "" },
    urls: card.urls.map((u) => ({ url: u.url ?? "", type: u.type ?? "" })),
    birthday: card.birthday ?? "",
  };
}
