/**
 * A Meta webhook delivery (reference §3) → domain changes. Every entry,
 * change, message and status is read (a delivery batches up to 1,000);
 * unknown fields are ignored, unknown message types kept as `unsupported`,
 * unreadable items reported as skipped. Only a body that is not a WhatsApp
 * Business Account webhook at all is refused (MalformedWebhookError).
 */
import { parseJsonLossless } from "../../shared/lossless-json.js";
import {
  waIdToE164,
  type AccountUpdate,
  type ContactProfile,
  type InboundChange,
  type InboundDelivery,
  type InboundMessage,
  type ManagementChange,
  type MessagingChange,
  type PhoneNumberQualityUpdate,
  type ProviderUpdateDetails,
  type SkippedItem,
  type StatusUpdate,
  type TemplateStatusUpdate,
} from "../../../domain/inbound.js";
import { reportedStatusFromMeta } from "../../../domain/message-status.js";
import { flag, list, nonEmpty, providerErrors, record, text, unixSeconds, type JsonObject } from "./json-reader.js";
import { parseMessage } from "./message-payload.js";

/** The body is not a WhatsApp Business Account webhook: nothing in it can be processed, now or later. */
export class MalformedWebhookError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MalformedWebhookError";
  }
}

export interface ParseOptions {
  /** When the delivery arrived: stands in for missing timestamps. */
  receivedAt: Date;
}

/** Parses the raw body bytes (JSON) of a Meta delivery. */
export function parseMetaWebhookBody(body: Uint8Array | string, options: ParseOptions): InboundDelivery {
  let json: unknown;
  try {
    // Lossless: an id sent as a long JSON number must not round into another id.
    json = parseJsonLossless(typeof body === "string" ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
  } catch (error) {
    throw new MalformedWebhookError(`body is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  return parseMetaWebhook(json, options);
}

export function parseMetaWebhook(json: unknown, options: ParseOptions): InboundDelivery {
  const envelope = record(json);
  if (!envelope) throw new MalformedWebhookError("body is not a JSON object");
  if (envelope.object !== undefined && envelope.object !== "whatsapp_business_account") {
    throw new MalformedWebhookError(`object is ${JSON.stringify(envelope.object)}, not "whatsapp_business_account"`);
  }
  if (!Array.isArray(envelope.entry)) throw new MalformedWebhookError("entry is not a list");

  const changes: InboundChange[] = [];
  for (const entryItem of envelope.entry) {
    const entry = record(entryItem);
    if (!entry) continue;
    const wabaId = text(entry.id) ?? "";
    const time = unixSeconds(entry.time);
    for (const changeItem of list(entry.changes)) {
      const change = record(changeItem);
      if (!change) continue;
      const field = text(change.field) ?? "";
      const value = record(change.value);
      changes.push(
        field === "messages" && value
          ? messagingChange(wabaId, value, options)
          : managementChange(field, wabaId, time, value ?? change.value ?? null),
      );
    }
  }
  return { changes };
}

function messagingChange(wabaId: string, value: JsonObject, options: ParseOptions): MessagingChange {
  const metadata = record(value.metadata);
  const phoneNumberId = text(metadata?.phone_number_id) ?? "";
  const displayPhoneNumber = waIdToE164(text(metadata?.display_phone_number) ?? "");
  const errors = providerErrors(value.errors);
  const skipped: SkippedItem[] = [];
  const messages: InboundMessage[] = [];
  for (const item of list(value.messages)) {
    const parsed = parseMessage(item, { phoneNumberId, displayPhoneNumber, changeErrors: errors, receivedAt: options.receivedAt });
    if ("wamid" in parsed) messages.push(parsed);
    else skipped.push(parsed);
  }
  const statuses: StatusUpdate[] = [];
  for (const item of list(value.statuses)) {
    const parsed = parseStatus(item, options);
    if ("wamid" in parsed) statuses.push(parsed);
    else skipped.push(parsed);
  }
  return {
    kind: "messaging",
    provider: "meta",
    wabaId,
    phoneNumberId,
    displayPhoneNumber,
    contacts: list(value.contacts).map(parseContact).filter((c): c is ContactProfile => c !== undefined),
    messages,
    statuses,
    errors,
    skipped,
    raw: value,
  };
}

function parseContact(item: unknown): ContactProfile | undefined {
  const contact = record(item);
  const waId = nonEmpty(contact?.wa_id);
  const userId = nonEmpty(contact?.user_id);
  // A username adopter may come with only a business-scoped user id (no wa_id).
  if (!contact || (!waId && !userId)) return undefined;
  const profile = record(contact.profile);
  return {
    waId: waId ?? "",
    profileName: text(profile?.name),
    userId,
    parentUserId: nonEmpty(contact.parent_user_id),
    username: nonEmpty(profile?.username),
    identityKeyHash: nonEmpty(contact.identity_key_hash),
  };
}

/** One `statuses[]` item (reference §3.3). */
export function parseStatus(item: unknown, options: ParseOptions): StatusUpdate | SkippedItem {
  const s = record(item);
  const wamid = nonEmpty(s?.id);
  if (!s || !wamid) return { what: "status", reason: "status without a message id" };
  const providerStatus = text(s.status) ?? "";
  const status = reportedStatusFromMeta(providerStatus);
  if (!status) return { what: "status", reason: `status ${JSON.stringify(providerStatus)} of ${wamid} is not one we know` };
  const pricing = record(s.pricing);
  const conversation = record(s.conversation);
  const conversationId = nonEmpty(conversation?.id);
  return {
    wamid,
    status,
    providerStatus,
    timestamp: unixSeconds(s.timestamp) ?? options.receivedAt,
    recipientId: text(s.recipient_id) ?? "",
    recipientUserId: nonEmpty(s.recipient_user_id) ?? nonEmpty(s.recipient_participant_user_id),
    errors: providerErrors(s.errors),
    pricing: pricing && {
      billable: flag(pricing.billable),
      pricingModel: text(pricing.pricing_model),
      category: text(pricing.category),
      type: text(pricing.type),
    },
    conversation: conversationId
      ? {
          id: conversationId,
          expireTime: unixSeconds(conversation?.expiration_timestamp),
          originType: text(record(conversation?.origin)?.type),
        }
      : undefined,
    bizOpaqueCallbackData: text(s.biz_opaque_callback_data),
    raw: s,
  };
}

function managementChange(field: string, wabaId: string, time: Date | undefined, value: unknown): ManagementChange {
  const v = record(value);
  const details = managementDetails(field, v);
  return {
    kind: "management",
    provider: "meta",
    field,
    wabaId,
    phoneNumberId: nonEmpty(record(v?.metadata)?.phone_number_id),
    event: nonEmpty(v?.event),
    time,
    details,
    raw: value,
  };
}

function managementDetails(field: string, v: JsonObject | undefined): ProviderUpdateDetails {
  if (!v) return { kind: "other" };
  switch (field) {
    case "message_template_status_update":
      return { kind: "template_status", template: templateStatus(v) };
    case "account_update":
      return { kind: "account", account: accountUpdate(v) };
    case "phone_number_quality_update":
      return { kind: "phone_number_quality", quality: qualityUpdate(v) };
    default:
      return { kind: "other" };
  }
}

function templateStatus(v: JsonObject): TemplateStatusUpdate {
  const rejection = record(v.rejection_info);
  const other = record(v.other_info);
  return {
    templateId: text(v.message_template_id) ?? "",
    name: text(v.message_template_name) ?? "",
    language: text(v.message_template_language) ?? "",
    event: text(v.event) ?? "",
    reason: text(v.reason),
    category: text(v.message_template_category),
    rejection: rejection && { reason: text(rejection.reason) ?? "", recommendation: text(rejection.recommendation) ?? "" },
    other: other && { title: text(other.title) ?? "", description: text(other.description) ?? "" },
    disableTime: unixSeconds(record(v.disable_info)?.disable_date),
  };
}

function accountUpdate(v: JsonObject): AccountUpdate {
  const violation = record(v.violation_info);
  const ban = record(v.ban_info);
  return {
    event: text(v.event) ?? "",
    restrictions: list(v.restriction_info)
      .map(record)
      .filter((r): r is JsonObject => r !== undefined)
      .map((r) => ({ type: text(r.restriction_type) ?? "", expireTime: unixSeconds(r.expiration) })),
    violationType: text(violation?.violation_type),
    ban: ban && { state: text(ban.waba_ban_state) ?? "", date: text(ban.waba_ban_date) ?? "" },
  };
}

function qualityUpdate(v: JsonObject): PhoneNumberQualityUpdate {
  return {
    event: text(v.event) ?? "",
    displayPhoneNumber: text(v.display_phone_number) ?? "",
    currentLimit: text(v.current_limit),
    oldLimit: text(v.old_limit),
    maxDailyConversationsPerBusiness: text(v.max_daily_conversations_per_business),
  };
}
