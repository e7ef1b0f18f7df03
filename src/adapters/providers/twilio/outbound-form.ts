/**
 * A stored message (the Graph API message object, ports/whatsapp-provider.ts)
 * → the form fields of Twilio's `POST /2010-04-01/Accounts/{AccountSid}/
 * Messages.json` (reference §9.4). What Twilio's Messages API can carry:
 *
 * - text → `Body` (Twilio allows 1,600 characters; WhatsApp's 4,096 limit is
 *   checked earlier, so a longer body is Twilio's refusal, not a cut);
 * - image, audio, video, document, sticker by link → `MediaUrl`, the caption
 *   as `Body`;
 * - location → `PersistentAction=geo:lat,long|label` with the address as
 *   `Body` (Twilio's documented form for a WhatsApp location);
 * - template → `ContentSid` + `ContentVariables` (a JSON object of strings):
 *   positional parameters numbered "1", "2"… in the order of their
 *   components (header, body, buttons), named ones by their name. The
 *   Content SID is the account's mapping for the template's name and
 *   language (domain/templates/twilio-content.ts).
 *
 * Everything else (media by Meta media id, contacts, interactive messages,
 * reactions, replies that quote a message) has no Messages API form: it is
 * refused with a reason, never sent as something else.
 */
import { contentSidFor, contentSidKey } from "../../../domain/templates/twilio-content.js";
import type { GraphMessageBody } from "../../../ports/whatsapp-provider.js";
import { list, nonEmpty, number, record, text } from "../meta/json-reader.js";

export type FormFields = [string, string][];

export type OutboundForm = { ok: true; fields: FormFields } | { ok: false; reason: string };

const MEDIA_TYPES = new Set(["image", "audio", "video", "document", "sticker"]);

/** The content fields of the form (no To/From/StatusCallback), or why Twilio cannot carry the message. */
export function twilioContentFields(body: GraphMessageBody, metadata?: Readonly<Record<string, string>>): OutboundForm {
  if (body.context?.message_id) {
    // The Messages API has no parameter for quoting a message.
    return refuse("a reply quoting a message cannot be sent through Twilio's Messages API");
  }
  if (body.type === "text") {
    const value = text(record(body.text)?.body);
    return value === undefined ? refuse("text without a body") : { ok: true, fields: [["Body", value]] };
  }
  if (MEDIA_TYPES.has(body.type)) {
    const media = record(body[body.type]);
    const link = nonEmpty(media?.link);
    if (!link) return refuse(`${body.type} by media id: Twilio sends media only by URL (give a link)`);
    const caption = nonEmpty(media?.caption);
    return { ok: true, fields: [...(caption ? ([["Body", caption]] as FormFields) : []), ["MediaUrl", link]] };
  }
  if (body.type === "location") {
    const l = record(body.location);
    const latitude = number(l?.latitude);
    const longitude = number(l?.longitude);
    if (latitude === undefined || longitude === undefined) return refuse("location without coordinates");
    const name = nonEmpty(l?.name);
    const address = nonEmpty(l?.address);
    return {
      ok: true,
      fields: [
        ["Body", address ?? name ?? `${latitude},${longitude}`],
        ["PersistentAction", `geo:${latitude},${longitude}${name ? `|${name}` : ""}`],
      ],
    };
  }
  if (body.type === "template") return templateFields(record(body.template), metadata);
  return refuse(`${body.type} messages have no form in Twilio's Messages API (they need a Content API item)`);
}

function templateFields(template: Record<string, unknown> | undefined, metadata: Readonly<Record<string, string>> | undefined): OutboundForm {
  const name = text(template?.name) ?? "";
  const language = text(record(template?.language)?.code) ?? "";
  const sid = contentSidFor(metadata, name, language);
  if (!sid) {
    return refuse(`template ${name} (${language}) has no Twilio Content SID: set the account's metadata "${contentSidKey(name, language)}" to its HX… SID`);
  }
  const variables: Record<string, string> = {};
  let position = 0;
  for (const component of list(template?.components)) {
    for (const item of list(record(component)?.parameters)) {
      const parameter = record(item);
      const value = parameterValue(parameter);
      if (value === undefined) return refuse(`template ${name}: a ${text(parameter?.type) ?? "?"} parameter has no Content API form`);
      const named = nonEmpty(parameter?.parameter_name);
      position += named ? 0 : 1;
      variables[named ?? String(position)] = value;
    }
  }
  const fields: FormFields = [["ContentSid", sid]];
  if (Object.keys(variables).length > 0) fields.push(["ContentVariables", JSON.stringify(variables)]);
  return { ok: true, fields };
}

/** A Graph template parameter as the one string a Content variable holds. */
function parameterValue(parameter: Record<string, unknown> | undefined): string | undefined {
  const type = text(parameter?.type);
  switch (type) {
    case "text":
      return text(parameter?.text);
    case "currency":
      return text(record(parameter?.currency)?.fallback_value);
    case "date_time":
      return text(record(parameter?.date_time)?.fallback_value);
    case "image":
    case "video":
    case "document":
      return nonEmpty(record(parameter?.[type])?.link);
    case "payload":
      return text(parameter?.payload);
    case "coupon_code":
      return text(parameter?.coupon_code);
    default:
      return undefined;
  }
}

function refuse(reason: string): OutboundForm {
  return { ok: false, reason };
}
