import { describe, expect, it } from "vitest";
import { TenantRateLimiter } from "./rate-limiter.js";

function clock() {
  let ms = 1_000;
  return { now: () => ms, advance: (by: number) => void (ms += by) };
}

describe("TenantRateLimiter", () => {
  it("when a tenant spends its burst, then the next request is refused with the wait until one token refills", () => {
    const time = clock();
    const limiter = new TenantRateLimiter({ ratePerSecond: 10, burst: 3, now: time.now });
    expect([limiter.take("a"), limiter.take("a"), limiter.take("a")].every((d) => d.allowed)).toBe(true);
    expect(limiter.take("a")).toEqual({ allowed: false, retryAfterMs: 100 });
    time.advance(100);
    expect(limiter.take("a")).toEqual({ allowed: true });
  });

  it("when one tenant is exhausted, then another tenant is unaffected", () => {
    const time = clock();
    const limiter = new TenantRateLimiter({ ratePerSecond: 1, burst: 1, now: time.now });
    expect(limiter.take("a").allowed).toBe(true);
    expect(limiter.take("a").allowed).toBe(false);
    expect(limiter.take("b").allowed).toBe(true);
  });

  it("when a tenant waits a long time, then it gets back at most its burst", () => {
    const time = clock();
    const limiter = new TenantRateLimiter({ ratePerSecond: 100, burst: 2, now: time.now });
    limiter.take("a");
    limiter.take("a");
    time.advance(60_000);
    expect([limiter.take("a"), limiter.take("a"), limiter.take("a")].map((d) => d.allowed)).toEqual([true, true, false]);
  });

  it("when more tenants than tracked appear, then refilled buckets are forgotten and decisions stay the same", () => {
    const time = clock();
    const limiter = new TenantRateLimiter({ ratePerSecond: 10, burst: 1, now: time.now, maxTrackedTenants: 2 });
    limiter.take("a");
    limiter.take("b");
    time.advance(1_000);
    limiter.take("c");
    expect(limiter.trackedTenants()).toBe(1);
    expect(limiter.take("c").allowed).toBe(false);
  });

  it("when built with no rate, then it refuses to exist (0 means: do not build a limiter)", () => {
    expect(() => new TenantRateLimiter({ ratePerSecond: 0, burst: 1 })).toThrow(/ratePerSecond/);
  });
});
