import { hot, preparedRows } from "./prepared-query.js";
import { outbox } from "./schema/control.js";
import type { Database } from "./database.js";

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

export interface OutboxEvent {
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

/**
 * Appends events to the outbox. Call it with the transaction that makes the
 * state change the events report: both commit together or neither does. The
 * relay publishes rows in `seq` order and marks them published; WatchEvents
 * reads them in commit-safe `(tx_id, seq)` order (`tx_id` is filled by its
 * column default, the writing transaction's id — see event-feed.ts).
 */
export async function appendToOutbox(tx: Database, events: readonly OutboxEvent[]): Promise<void> {
  if (events.length === 0) return;
  // One prepared statement whatever the number of events (a hot path: every
  // processed delivery ends here), in the given order so `seq` follows it.
  await preparedRows(
    tx,
    hot`insert into ${outbox} (id, tenant_id, subject, event_type, payload, headers)
        select e.id, e.tenant_id, e.subject, e.event_type, decode(e.payload, 'hex'), e.headers::jsonb
          from unnest(${events.map((e) => e.id)}::uuid[], ${events.map((e) => e.tenantId)}::text[],
                      ${events.map((e) => subjectFor(e.tenantId, e.name))}::text[], ${events.map((e) => e.name)}::text[],
                      ${events.map((e) => Buffer.from(e.payload.buffer, e.payload.byteOffset, e.payload.byteLength).toString("hex"))}::text[],
                      ${events.map((e) => JSON.stringify(headersOf(e)))}::text[])
               with ordinality as e (id, tenant_id, subject, event_type, payload, headers, ord)
         order by e.ord`,
  );
}

function headersOf(e: OutboxEvent): Record<string, string> {
  return {
    "content-type": "application/protobuf",
    "whatsapp-event-type": e.name,
    ...(e.traceparent ? { traceparent: e.traceparent } : {}),
  };
}
