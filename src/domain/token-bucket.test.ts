import { describe, expect, it } from "vitest";

import { slotIntervalMs, takeSlots } from "./token-bucket.js";

const base = { ratePerSecond: 80, headroom: 0, horizonMs: 1000, wanted: Infinity };

describe("token bucket (send slots)", () => {
  it("when an account has been idle, then its slots start now, evenly spaced, with no saved-up burst", () => {
    const grant = takeSlots({ ...base, nextSlotAt: 0, now: 10_000, horizonMs: 100 });
    expect(grant.slots[0]).toBe(10_000);
    expect(grant.slots).toHaveLength(8); // 100 ms at 12.5 ms per slot
    for (let i = 1; i < grant.slots.length; i++) expect(grant.slots[i]! - grant.slots[i - 1]!).toBeCloseTo(12.5);
    expect(grant.nextSlotAt).toBeCloseTo(10_100);
  });

  it("when slots were taken ahead, then the next claim continues after the last one", () => {
    const first = takeSlots({ ...base, nextSlotAt: 0, now: 0, horizonMs: 50 });
    const second = takeSlots({ ...base, nextSlotAt: first.nextSlotAt, now: 10, horizonMs: 50 });
    expect(second.slots[0]).toBeCloseTo(first.nextSlotAt);
    expect(second.slots.every((s) => s < 60)).toBe(true);
  });

  it("when two claimers share one bucket, then together they never exceed the rate in any second", () => {
    let nextSlotAt = 0;
    const all: number[] = [];
    for (let now = 0; now < 10_000; now += 7) {
      const grant = takeSlots({ ...base, nextSlotAt, now, horizonMs: 100, wanted: now % 2 === 0 ? 3 : 50 });
      nextSlotAt = grant.nextSlotAt;
      all.push(...grant.slots);
    }
    let max = 0;
    for (let i = 0, j = 0; i < all.length; i++) {
      while (all[i]! - all[j]! >= 1000) j++;
      max = Math.max(max, i - j + 1);
    }
    expect(max).toBe(80);
    expect(all.length).toBeGreaterThanOrEqual(795);
  });

  it("when the headroom is 5%, then the spacing is that of 95% of the rate", () => {
    expect(slotIntervalMs(1000, 0.05)).toBeCloseTo(1000 / 950);
  });

  it("when nothing fits in the horizon, then nothing is granted and the bucket is unchanged", () => {
    const grant = takeSlots({ ...base, nextSlotAt: 5_000, now: 0, horizonMs: 100 });
    expect(grant).toEqual({ slots: [], nextSlotAt: 5_000 });
  });

  it("when the rate or headroom is out of range, then it throws", () => {
    expect(() => slotIntervalMs(0, 0)).toThrow(RangeError);
    expect(() => slotIntervalMs(80, 1)).toThrow(RangeError);
  });
});
