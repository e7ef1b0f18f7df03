/**
 * What a caller asks us to send, one variant per WhatsApp message kind. The
 * shapes follow SendMessage (message.proto) so that validation can name the
 * request's own field paths; graph-message.ts turns a valid content into
 * the Graph API message object that is stored and sent.
 */
import type { ContactCard } from "../inbound.js";

export type MediaKind = "image" | "audio" | "video" | "document" | "sticker";

/** Where media comes from: a public HTTP(S) link, or a media id uploaded to the provider. */
export type MediaSource = { kind: "link"; link: string } | { kind: "id"; id: string };

export interface TextContent {
  kind: "text";
  body: string;
  previewUrl: boolean;
}

export interface MediaContent {
  kind: "media";
  mediaKind: MediaKind;
  source: MediaSource;
  /** Image, video and document only; "" for none. */
  caption: string;
  /** Document only; "" for none. */
  filename: string;
}

export interface LocationContent {
  kind: "location";
  latitude: number;
  longitude: number;
  name: string;
  address: string;
}

export interface ContactsContent {
  kind: "contacts";
  cards: ContactCard[];
}

export type InteractiveHeader =
  | { kind: "text"; text: string }
  | { kind: "image" | "video" | "document"; source: MediaSource };

export interface ReplyButton {
  id: string;
  title: string;
}

export interface ListSection {
  title: string;
  rows: { id: string; title: string; description: string }[];
}

export type InteractiveAction =
  | { kind: "buttons"; buttons: ReplyButton[] }
  | { kind: "list"; button: string; sections: ListSection[] }
  | { kind: "cta_url"; displayText: string; url: string };

export interface InteractiveContent {
  kind: "interactive";
  header: InteractiveHeader | undefined;
  body: string;
  /** "" for none. */
  footer: string;
  action: InteractiveAction;
}

export interface ReactionContent {
  kind: "reaction";
  /** The message reacted to: its id in this service (UUID) or its wamid. */
  messageRef: string;
  /** One emoji; "" removes an earlier reaction. */
  emoji: string;
}

export type TemplateParameterValue =
  | { kind: "text"; text: string }
  | { kind: "currency"; fallbackValue: string; code: string; amount1000: number }
  | { kind: "date_time"; fallbackValue: string }
  | { kind: "image" | "video" | "document"; source: MediaSource }
  | { kind: "location"; latitude: number; longitude: number; name: string; address: string }
  | { kind: "payload"; payload: string }
  | { kind: "coupon_code"; couponCode: string };

export interface TemplateParameter {
  /** Named templates: the placeholder name; "" for positional parameters. */
  parameterName: string;
  value: TemplateParameterValue;
}

export type TemplateComponentType = "header" | "body" | "button";
export type TemplateButtonSubType = "quick_reply" | "url" | "copy_code";

export interface TemplateComponent {
  type: TemplateComponentType;
  /** Buttons only. */
  subType: TemplateButtonSubType | undefined;
  /** Buttons only: position among the template's buttons, from 0. */
  index: number;
  parameters: TemplateParameter[];
}

export interface TemplateContent {
  kind: "template";
  name: string;
  language: string;
  components: TemplateComponent[];
}

export type OutboundContent =
  | TextContent
  | MediaContent
  | LocationContent
  | ContactsContent
  | InteractiveContent
  | ReactionContent
  | TemplateContent;

/** The stored message type (`messages.type`, Meta's `type`) of a content. */
export function messageTypeOf(content: OutboundContent): string {
  return content.kind === "media" ? content.mediaKind : content.kind;
}

/**
 * Only templates may be sent outside the 24-hour customer-service window;
 * everything else is "free-form" (Meta error 131047 if sent anyway).
 */
export function isFreeForm(content: OutboundContent): boolean {
  return content.kind !== "template";
}
