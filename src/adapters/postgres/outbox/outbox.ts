import { hot, preparedRows } from "../db/prepared-query.js";
import { outbox } from "../schema/control.js";
import type { DomainEvent } from "../../../domain/events.js";
import type { EventOutbox } from "../../../ports/event-outbox.js";
import { encodeEvent } from "../../events/encode.js";
import { subjectFor, type EncodedEvent, type EventName } from "../../events/encoded-event.js";
import type { Database } from "../db/database.js";

export { subjectFor, type EventName };
/** An event in its wire form (adapters/events encoded-event.ts). */
export type OutboxEvent = EncodedEvent;

/**
 * Appends encoded events to the outbox (appendEvents encodes domain events
 * first). Call it with the transaction that makes the
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

/** Encodes domain events (adapters/events encode.ts, the one place) and appends them in `tx`. */
export function appendEvents(tx: Database, events: readonly DomainEvent[]): Promise<void> {
  return appendToOutbox(tx, events.map(encodeEvent));
}

/** The event outbox port bound to one transaction. */
export class PostgresEventOutbox implements EventOutbox {
  readonly #tx: Database;

  constructor(tx: Database) {
    this.#tx = tx;
  }

  append(events: readonly DomainEvent[]): Promise<void> {
    return appendEvents(this.#tx, events);
  }
}
