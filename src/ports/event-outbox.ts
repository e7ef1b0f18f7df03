import type { DomainEvent } from "../domain/events.js";

/**
 * The outbox, bound to the caller's transaction: the events are committed
 * with the change they report, or not at all. The relay publishes them in
 * commit order; WatchEvents replays them (adapters/postgres outbox.ts).
 */
export interface EventOutbox {
  append(events: readonly DomainEvent[]): Promise<void>;
}
