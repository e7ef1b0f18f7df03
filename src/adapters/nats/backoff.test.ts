import { describe, expect, it } from "vitest";
import { Backoff, sleep } from "./backoff.js";

describe("Backoff", () => {
  it("when failures repeat, then the delay doubles up to the cap", () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0.999_999 });
    const delays = Array.from({ length: 6 }, () => backoff.next());
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(backoff.failures).toBe(6);
  });

  it("when the random draw is lowest, then the delay is half the ceiling (never zero)", () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0 });
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([50, 100, 200]);
  });

  it("when reset after a success, then the next delay starts from the beginning", () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0.999_999 });
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.failures).toBe(0);
    expect(backoff.next()).toBe(100);
  });

  it("when failures go on for very long, then the delay stays at the cap", () => {
    const backoff = new Backoff({ initialMs: 1, maxMs: 3_000, random: () => 0.999_999 });
    let last = 0;
    for (let i = 0; i < 2_000; i++) last = backoff.next();
    expect(last).toBe(3_000);
  });

  it("when the bounds make no sense, then it refuses them", () => {
    expect(() => new Backoff({ initialMs: 0, maxMs: 10 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 100, maxMs: 10 })).toThrow(RangeError);
  });
});

describe("sleep", () => {
  it("when the signal aborts, then it resolves at once", async () => {
    const controller = new AbortController();
    const slept = sleep(60_000, controller.signal);
    controller.abort();
    await expect(slept).resolves.toBeUndefined();
  });
});
