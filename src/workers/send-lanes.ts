/**
 * The last step of pacing, in this process: one lane per account that
 * releases its sends in slot order, each at its slot but never closer than
 * `minGapMs` to the previous one.
 *
 * The shared bucket (domain/token-bucket.ts) spaces the slots; timers do
 * not always keep them — an event-loop pause of a few tens of milliseconds
 * makes every timer due meanwhile fire at once, and that bunch could put a
 * one-second window over the account's limit — also one where another
 * replica is sending on the slots that follow. The lane keeps its own
 * schedule of turns, spaced like the slots, and gives back the sends whose
 * slot passed during a pause instead of sending them late in a burst.
 */
export class SendLanes<T> {
  readonly #lanes = new Map<string, Lane<T>>();
  readonly #release: (item: T) => void;
  readonly #miss: (item: T) => void;
  #idleWaiters: (() => void)[] = [];

  /** `release`: the item's turn has come; `miss`: its turn passed while the process was paused. */
  constructor(release: (item: T) => void, miss: (item: T) => void) {
    this.#release = release;
    this.#miss = miss;
  }

  /** Queues `item` on the account's lane; slots must come in ascending order per account (claims hand them out so). */
  push(accountId: string, slotAt: number, minGapMs: number, item: T): void {
    let lane = this.#lanes.get(accountId);
    if (!lane) {
      lane = { queue: [], next: -Infinity, minGapMs, timer: undefined };
      this.#lanes.set(accountId, lane);
    }
    lane.minGapMs = minGapMs;
    lane.queue.push({ slotAt, item });
    this.#arm(accountId, lane);
  }

  /** Items waiting for their turn. */
  get size(): number {
    let n = 0;
    for (const lane of this.#lanes.values()) n += lane.queue.length;
    return n;
  }

  /** Resolves once every lane is empty (everything released). */
  drained(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #arm(accountId: string, lane: Lane<T>): void {
    if (lane.timer !== undefined) return;
    const next = lane.queue[0];
    if (!next) {
      this.#lanes.delete(accountId);
      if (this.size === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
      return;
    }
    const at = Math.max(next.slotAt, lane.next);
    lane.timer = setTimeout(() => this.#fire(accountId, lane), Math.max(0, at - Date.now()));
  }

  /**
   * Releases every item whose turn has come. Turns are kept on a schedule
   * (`lane.next`), not on when timers happened to fire, so timer granularity
   * costs no throughput.
   *
   * A turn more than LATE_TOLERANCE_MS overdue (the process paused) is lost:
   * nothing goes out late on top of slots other replicas are using now. The
   * item that held it keeps its place in line, though: it moves to the next
   * turn, every item behind it moves back one turn, and the lane's last item
   * — left without a turn — is the one handed to `miss` (its job goes back
   * to the queue for a new slot). The lane's order is the claim's order,
   * priority first, so a pause never lets a later, lower-priority send
   * overtake an OTP; and the turns used are exactly the slots taken, so
   * pacing holds.
   */
  #fire(accountId: string, lane: Lane<T>): void {
    lane.timer = undefined;
    const now = Date.now();
    for (let next = lane.queue[0]; next; next = lane.queue[0]) {
      const turn = Math.max(next.slotAt, lane.next);
      if (turn > now + EARLY_TOLERANCE_MS) break;
      if (now - turn > LATE_TOLERANCE_MS) {
        this.#miss(loseTurn(lane.queue));
        continue;
      }
      lane.queue.shift();
      lane.next = turn + lane.minGapMs;
      this.#release(next.item);
    }
    this.#arm(accountId, lane);
  }
}

/**
 * The first turn of `queue` passed unused: drops that turn and moves every
 * item one turn back (each takes its successor's slot); returns the last
 * item, which no turn is left for.
 */
function loseTurn<T>(queue: { slotAt: number; item: T }[]): T {
  const last = queue[queue.length - 1]!.item;
  for (let i = queue.length - 1; i > 0; i--) queue[i]!.item = queue[i - 1]!.item;
  queue.shift();
  return last;
}

/** Timers fire on whole milliseconds and sometimes a little early. */
const EARLY_TOLERANCE_MS = 0.5;
/**
 * Later than this, a slot is missed. Within it, overdue items go at once —
 * every send leaves within this much of its slot, which the headroom
 * covers: with 4% headroom a second holds at most
 * 0.96 × rate × (1 + 10 ms / 1 s) + 1 < rate sends (rate ≥ 80/s), across
 * replicas too.
 */
const LATE_TOLERANCE_MS = 10;

interface Lane<T> {
  queue: { slotAt: number; item: T }[];
  /** The earliest turn of the next item (epoch ms): the previous turn + minGapMs. */
  next: number;
  minGapMs: number;
  timer: NodeJS.Timeout | undefined;
}
