/**
 * The events the service publishes (SPEC §7), as the core produces them. An
 * event is written with the change it reports, in the same transaction
 * (ports/event-outbox.ts); its wire form (protobuf, subject, headers) is the
 * outbox implementation's business (adapters/events encode.ts).
 */
import type { ConversationClosed } from "./conversations/conversation-update.js";
import type { AccountRef, InboundEvent, OutboundMessageSnapshot } from "./inbound-events.js";
import type { MessageStatus } from "./message-status.js";
import type { OtpVerified } from "./otp/otp.js";
import type { TemplateCategory, TemplateStatus } from "./templates/index.js";

/** Event names as they appear in subjects and the `whatsapp-event-type` header (SPEC §7). */
export type EventName =
  | "message.received"
  | "message.status"
  | "message.failed"
  | "conversation.opened"
  | "conversation.closed"
  | "contact.created"
  | "template.status"
  | "otp.verified";

/** A message failed for good (the provider refused it, or its outcome stayed unknown). */
export interface MessageFailed {
  kind: "message.failed";
  eventId: string;
  account: AccountRef;
  occurredAt: Date;
  message: OutboundMessageSnapshot;
  previousStatus: MessageStatus;
  /** The provider's code, title and details (ports/whatsapp-provider.ts ProviderError has these). */
  error: { code: number; title: string; details: string };
  /** The service's classification: would (or did) a retry help. */
  retryable: boolean;
  attemptCount: number;
  idempotencyKey: string | undefined;
}

/** A template's review status changed (webhook or sync), as committed. */
export interface TemplateStatusChanged {
  kind?: "template.status";
  eventId: string;
  tenantId: string;
  accountId: string;
  occurredAt: Date;
  wabaId: string;
  templateId: string;
  metaTemplateId: string;
  name: string;
  language: string;
  category: TemplateCategory;
  status: TemplateStatus;
  previousStatus: TemplateStatus;
  reason: string;
  /** The provider's event name (`APPROVED`, `FLAGGED`…), or `SYNC`. */
  providerEvent: string;
  version: number;
}

/** Every event the service publishes. */
export type DomainEvent =
  | InboundEvent
  | ConversationClosed
  | MessageFailed
  | (TemplateStatusChanged & { kind: "template.status" })
  | (OtpVerified & { kind: "otp.verified" });
