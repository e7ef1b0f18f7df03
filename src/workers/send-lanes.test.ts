import { describe, expect, it } from "vitest";

import { SendLanes } from "./send-lanes.js";

/** Blocks the event loop (what a GC pause or a CPU-starved process does to the sender) for `ms`. */
function blockFor(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // spin
  }
}

function recordingLanes() {
  const released: { item: string; at: number }[] = [];
  const missed: string[] = [];
  const lanes = new SendLanes<string>(
    (item) => released.push({ item, at: Date.now() }),
    (item) => missed.push(item),
  );
  return { lanes, released, missed };
}

const ORDER = ["otp1", "otp2", "tx", "mkt1", "mkt2"];
const GAP_MS = 100;

describe("SendLanes", () => {
  it("when nothing pauses the process, then items go out in order, each no earlier than its slot, none missed", async () => {
    const { lanes, released, missed } = recordingLanes();
    const t0 = Date.now();
    ORDER.slice(0, 3).forEach((item, i) => lanes.push("acc", t0 + 20 + i * 20, 20, item));
    await lanes.drained();
    expect(released.map((r) => r.item)).toEqual(["otp1", "otp2", "tx"]);
    released.forEach((r, i) => expect(r.at).toBeGreaterThanOrEqual(t0 + 20 + i * 20 - 1));
    expect(missed).toEqual([]);
  });

  it("when a pause makes the first turns pass, then those items keep their place in line and the lane's last items are given back", async () => {
    const { lanes, released, missed } = recordingLanes();
    const t0 = Date.now();
    // Claim order is priority order: two OTPs, a transactional, two marketing sends, one slot each.
    ORDER.forEach((item, i) => lanes.push("acc", t0 + GAP_MS * (i + 1), GAP_MS, item));
    // The event loop is blocked past the first two turns (t0+100, t0+200) by far more than the tolerance.
    blockFor(2 * GAP_MS + GAP_MS / 2);
    await lanes.drained();
    expect(released.length + missed.length).toBe(ORDER.length);

    // Turns lost to the pause are taken from the tail of the line, never from the OTPs that held them.
    const releasedItems = released.map((r) => r.item);
    expect(releasedItems).toEqual(ORDER.slice(0, releasedItems.length));
    expect(releasedItems).toEqual(expect.arrayContaining(["otp1", "otp2"]));
    expect([...missed].reverse()).toEqual(ORDER.slice(releasedItems.length));
    expect(missed.length).toBeGreaterThanOrEqual(2);
    // Turns stay paced: no two releases closer than the gap.
    for (let i = 1; i < released.length; i++) expect(released[i]!.at - released[i - 1]!.at).toBeGreaterThanOrEqual(GAP_MS - 1);
  });

  it("when the only item's turn passed, then it is handed back", async () => {
    const { lanes, released, missed } = recordingLanes();
    lanes.push("acc", Date.now() + 10, 10, "alone");
    blockFor(60);
    await lanes.drained();
    expect(released).toEqual([]);
    expect(missed).toEqual(["alone"]);
  });
});
