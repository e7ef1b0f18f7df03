import type { FieldViolation } from "../errors.js";
import type { SendPriority } from "../priority.js";
import type { OutboundContent } from "./content.js";
import { charLength, LIMITS } from "./limits.js";
import { parseRecipient } from "./recipient.js";
import { validateContent } from "./validate-content.js";

/** A SendMessage call, as the use case receives it. */
export interface SendRequest {
  accountId: string;
  /** Recipient's number as the caller wrote it. */
  to: string;
  content: OutboundContent;
  /** Message to quote: its id in this service (UUID) or a wamid; "" for none. */
  replyTo: string;
  /** "" for none. */
  idempotencyKey: string;
  priority: SendPriority;
  metadata: Record<string, string>;
}

/** Every rule a send must meet before it is queued; empty when it may be queued. */
export function validateSendRequest(request: SendRequest): FieldViolation[] {
  const violations: FieldViolation[] = [];
  const add = (field: string, description: string) => violations.push({ field, description });
  if (request.to.trim() === "") add("to", "is required");
  else if (!parseRecipient(request.to)) {
    add("to", "must be a phone number in E.164 (e.g. +593987654321) that can exist in its country, or a business-scoped user id (e.g. US.13491208655302741918)");
  }
  violations.push(...validateContent(request.content));
  if (request.replyTo !== "" && request.content.kind === "reaction") add("reply_to_message_id", "cannot be used with a reaction");
  if (charLength(request.replyTo) > LIMITS.replyTo) add("reply_to_message_id", `must be at most ${LIMITS.replyTo} characters`);
  if (charLength(request.idempotencyKey) > LIMITS.idempotencyKey) add("idempotency_key", `must be at most ${LIMITS.idempotencyKey} characters`);
  const entries = Object.entries(request.metadata);
  if (entries.length > LIMITS.metadata.pairs) add("metadata", `takes at most ${LIMITS.metadata.pairs} entries`);
  for (const [key, value] of entries) {
    if (key === "" || charLength(key) > LIMITS.metadata.key) add("metadata", `keys must be 1 to ${LIMITS.metadata.key} characters ("${key.slice(0, 70)}")`);
    if (charLength(value) > LIMITS.metadata.value) add(`metadata["${key}"]`, `must be at most ${LIMITS.metadata.value} characters`);
  }
  return violations;
}
