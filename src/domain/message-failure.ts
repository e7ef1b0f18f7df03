/**
 * One rule for a failed message's events (SPEC §7, events.proto), whoever
 * finds the failure — the provider refusing the send, a status webhook
 * reporting `failed`, or an unknown outcome whose window passed: the status
 * change is a `message.status` to FAILED like any other change, and the
 * message failing for good is one `message.failed`, both with the provider's
 * error. Every status only moves forward (message-status.ts), so a message
 * fails once and these two events are written once, in this order.
 */
import type { MessageFailed } from "./events.js";
import type { ProviderError } from "./inbound.js";
import type { AccountRef, MessageStatusChanged, OutboundMessageSnapshot } from "./inbound-events.js";
import type { MessageStatus } from "./message-status.js";

export interface MessageFailure {
  account: AccountRef;
  occurredAt: Date;
  /** The message before the change (its status is the previous status). */
  message: OutboundMessageSnapshot;
  /** When the provider says it failed (a status webhook's timestamp), or when the failure was found. */
  statusTime: Date;
  error: ProviderError;
  /** The service's classification: would (or did) a retry help. */
  retryable: boolean;
  attemptCount: number;
  idempotencyKey: string | undefined;
}

/** `message.status` (→ FAILED) then `message.failed`, both carrying `failure.error`. */
export function failureEvents(newId: () => string, failure: MessageFailure): [MessageStatusChanged, MessageFailed] {
  const previousStatus: MessageStatus = failure.message.status;
  const message: OutboundMessageSnapshot = { ...failure.message, status: "failed" };
  return [
    {
      kind: "message.status",
      eventId: newId(),
      account: failure.account,
      occurredAt: failure.occurredAt,
      message,
      status: "failed",
      previousStatus,
      statusTime: failure.statusTime,
      error: failure.error,
      pricing: undefined,
      providerConversation: undefined,
    },
    {
      kind: "message.failed",
      eventId: newId(),
      account: failure.account,
      occurredAt: failure.occurredAt,
      message,
      previousStatus,
      error: { code: failure.error.code, title: failure.error.title, details: failure.error.details },
      retryable: failure.retryable,
      attemptCount: failure.attemptCount,
      idempotencyKey: failure.idempotencyKey,
    },
  ];
}

/** A provider error as the sender knows it (code, title, details) in the webhook's shape. */
export function providerErrorOf(error: { code: number; title: string; details: string }): ProviderError {
  return { code: error.code, title: error.title, message: error.title, details: error.details, href: "" };
}
