/**
 * Per-account send pacing: a token bucket in its "virtual scheduling" form
 * (GCRA). Instead of a token count and a refill time, the bucket keeps one
 * instant — when the next token falls due — and hands out send slots spaced
 * exactly 1/rate apart. The two forms admit the same traffic; this one has
 * two properties the sender needs:
 *
 * - Slots are spread evenly, never bunched: an idle account does not save
 *   up a burst. WhatsApp counts throughput per second (reference §7.1,
 *   130429 beyond it), so a burst of saved tokens on top of the steady rate
 *   would overshoot any one-second window. With even spacing a window of
 *   one second holds at most rate × (1 − headroom) + 1 sends.
 * - The state is one number, so every replica can share it through one
 *   database row: a claim reads it under a row lock, takes the slots it can
 *   use within its horizon and writes the new instant back. Replicas'
 *   slots interleave instead of adding up.
 *
 * `headroom` is the fraction of the configured rate deliberately left
 * unused, so timer and network jitter (a send a few milliseconds late next
 * to one on time) cannot push a window over the provider's limit.
 *
 * Pure: times are epoch milliseconds passed in, nothing reads a clock.
 */

export interface SlotRequest {
  /** When the bucket's next token falls due (epoch ms); in the past for an idle account. */
  nextSlotAt: number;
  /** Configured rate (messages per second), > 0. */
  ratePerSecond: number;
  /** Fraction of the rate kept free for jitter, in [0, 1). */
  headroom: number;
  /** Now (epoch ms). */
  now: number;
  /** How far ahead slots may be handed out (ms): the caller sends each at its slot time. */
  horizonMs: number;
  /** Most slots wanted (e.g. jobs waiting, capacity left). */
  wanted: number;
}

export interface SlotGrant {
  /** Send times (epoch ms), ascending, each in [now, now + horizonMs). */
  slots: number[];
  /** The bucket's new `nextSlotAt` (unchanged when nothing was granted). */
  nextSlotAt: number;
}

/** Milliseconds between two sends of an account at `ratePerSecond`, less the headroom. */
export function slotIntervalMs(ratePerSecond: number, headroom: number): number {
  if (!(ratePerSecond > 0)) throw new RangeError("ratePerSecond must be positive");
  if (!(headroom >= 0 && headroom < 1)) throw new RangeError("headroom must be in [0, 1)");
  return 1000 / (ratePerSecond * (1 - headroom));
}

/**
 * Takes up to `wanted` evenly spaced send slots from the bucket, none later
 * than the horizon. With `wanted` = Infinity it tells how many the horizon
 * holds (a claim asks that first, then takes exactly as many as it found jobs).
 */
export function takeSlots(request: SlotRequest): SlotGrant {
  const interval = slotIntervalMs(request.ratePerSecond, request.headroom);
  const first = Math.max(request.nextSlotAt, request.now);
  const limit = request.now + request.horizonMs;
  const slots: number[] = [];
  for (let at = first; slots.length < request.wanted && at < limit; at = first + slots.length * interval) {
    slots.push(at);
  }
  if (slots.length === 0) return { slots, nextSlotAt: request.nextSlotAt };
  return { slots, nextSlotAt: first + slots.length * interval };
}
