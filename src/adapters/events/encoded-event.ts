import type { EventName } from "../../domain/events.js";

export type { EventName };

/** An event in its wire form, as the outbox stores it and the relay publishes it. */
export interface EncodedEvent {
  /** The event's own `event_id` (UUID); becomes `Nats-Msg-Id`, so JetStream drops re-publishes. */
  id: string;
  tenantId: string;
  name: EventName;
  /** The protobuf-encoded event message (e.g. MessageReceivedEvent). */
  payload: Uint8Array;
  /** W3C trace context of the work that produced the event, when there is one. */
  traceparent?: string;
}

/** `whatsapp.{tenant_id}.{event}` — tenant ids cannot contain `.`, `*` or `>` (see domain/tenant.ts). */
export function subjectFor(tenantId: string, name: EventName): string {
  return `whatsapp.${tenantId}.${name}`;
}
