/**
 * Delivery status of a message and the one rule that moves it: forward only.
 *
 * Outbound messages go queued → sending → sent → delivered → read. Providers
 * report statuses late, twice and out of order (read before delivered; a
 * `delivered` may never come when the user has the chat open), so a status
 * is applied only when it moves the message forward:
 *
 * - The chain ranks queued < sending < sent < delivered < read. A status of
 *   lower or equal rank is stale and changes nothing (a late `delivered`
 *   after `read` leaves the message read). Skipping ranks is normal
 *   (sent → read).
 * - `failed` is reachable only before the device confirmed the message:
 *   from queued, sending or sent. Meta can send `failed` after `sent` (the
 *   message was accepted, then could not be delivered, e.g. 131049); once a
 *   message is delivered or read, a `failed` contradicts what the device
 *   reported and is ignored.
 * - Nothing leaves `failed`: a retry by the sending work is a new send with
 *   a new provider id, so a status after `failed` can only be stale.
 * - Inbound messages are `received`; provider statuses never apply to them.
 *
 * Hence exactly one state change — and one `message.status` event — per
 * status that moves a message, and none for duplicates or stale ones.
 */

/** Statuses an outbound message can be in. */
export type DeliveryStatus = "queued" | "sending" | "sent" | "delivered" | "read" | "failed";

/** Every stored status: outbound delivery statuses, and `received` for inbound messages. */
export type MessageStatus = DeliveryStatus | "received";

/** What a provider can report about an outbound message. */
export type ReportedStatus = "sent" | "delivered" | "read" | "failed";

const CHAIN_RANK: Readonly<Record<Exclude<DeliveryStatus, "failed">, number>> = {
  queued: 0,
  sending: 1,
  sent: 2,
  delivered: 3,
  read: 4,
};

/** True when a message in `current` moves to `next`; false when `next` is stale, repeated or contradictory. */
export function advancesTo(current: MessageStatus, next: DeliveryStatus): boolean {
  if (current === "received" || current === "failed") return false;
  if (next === "failed") return current === "queued" || current === "sending" || current === "sent";
  return CHAIN_RANK[next] > CHAIN_RANK[current];
}

/**
 * Meta's status strings. `played` (first play of a voice message) implies the
 * message was opened, so it counts as `read`: after `read` it changes nothing,
 * before it, it moves the message to read. Unknown strings give undefined:
 * the caller skips them (Meta adds values without notice).
 */
export function reportedStatusFromMeta(status: string): ReportedStatus | undefined {
  switch (status) {
    case "sent":
    case "delivered":
    case "read":
    case "failed":
      return status;
    case "played":
      return "read";
    default:
      return undefined;
  }
}
