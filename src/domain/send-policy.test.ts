import { describe, expect, it } from "vitest";

import { backoffDelay, classifyProviderError, decideAfterError, DEFAULT_RETRY_POLICY, type ErrorAction } from "./send-policy.js";

/** Reference §6.2: code, the HTTP status Meta answers with, and what the sender must do. */
const TABLE: [code: number, httpStatus: number, action: ErrorAction, providerFault: boolean][] = [
  [0, 0, "retry", true], // no answer at all: network error
  [130429, 400, "retry", false],
  [130429, 429, "retry", false],
  [80007, 400, "retry", false],
  [4, 400, "retry", false],
  [131016, 500, "retry", true],
  [131000, 500, "retry", true],
  [2, 503, "retry", true],
  [133004, 503, "retry", true],
  [131057, 500, "retry", true],
  [131056, 400, "retry_recipient", false],
  [131056, 429, "retry_recipient", false],
  [131026, 400, "permanent", false],
  [131047, 400, "permanent", false],
  [132000, 400, "permanent", false],
  [132001, 404, "permanent", false],
  [100, 400, "permanent", false],
  [131051, 400, "permanent", false],
  [131053, 400, "permanent", false],
  [130472, 400, "permanent", false],
  [131048, 400, "permanent", false],
  [190, 401, "account", false],
  [190, 400, "account", false],
  [0, 401, "account", false],
  [131031, 403, "account", false],
  [368, 403, "account", false],
  [131042, 400, "account", false],
  [0, 502, "retry", true], // a gateway's 502 without Meta's error body
  [0, 400, "permanent", false],
  [999999, 503, "retry", true], // unknown code: the HTTP status decides
  [999999, 400, "permanent", false],
  // Twilio (reference §9.4)
  [63016, 400, "permanent", false], // outside the 24-hour window
  [63018, 400, "retry", false],
  [63018, 429, "retry", false],
  [63017, 429, "retry", false],
  [20429, 429, "retry", false],
  [21211, 400, "permanent", false],
  [21614, 400, "permanent", false],
  [21656, 400, "permanent", false],
  [63024, 400, "permanent", false],
  [20003, 401, "account", false],
  [20500, 500, "retry", true],
  [20503, 503, "retry", true],
];

describe("send policy", () => {
  it.each(TABLE)("when Meta answers code %i with HTTP %i, then the action is %s", (code, httpStatus, action, providerFault) => {
    expect(classifyProviderError({ code, httpStatus })).toEqual({ action, providerFault });
  });

  it("when a retryable error comes on the last allowed attempt, then the message fails as retryable", () => {
    const policy = { ...DEFAULT_RETRY_POLICY, maxAttempts: 3 };
    expect(decideAfterError({ code: 131016, httpStatus: 500 }, 2, policy).kind).toBe("retry");
    expect(decideAfterError({ code: 131016, httpStatus: 500 }, 3, policy)).toEqual({ kind: "fail", retryable: true, reason: "attempts_exhausted" });
  });

  it("when the error is permanent, then the first attempt fails it without retry", () => {
    expect(decideAfterError({ code: 131026, httpStatus: 400 }, 1, DEFAULT_RETRY_POLICY)).toEqual({ kind: "fail", retryable: false, reason: "permanent" });
  });

  it("when the token expired, then the account is paused instead of failing the message", () => {
    expect(decideAfterError({ code: 190, httpStatus: 401 }, 1, DEFAULT_RETRY_POLICY)).toEqual({ kind: "pause_account" });
  });

  it("when retries follow each other, then the backoff doubles with half of it jittered, up to the ceiling", () => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1_000 };
    expect(backoffDelay("retry", 1, policy, () => 0)).toBe(50);
    expect(backoffDelay("retry", 1, policy, () => 0.999999)).toBe(100);
    expect(backoffDelay("retry", 3, policy, () => 0)).toBe(200);
    expect(backoffDelay("retry", 10, policy, () => 0.999999)).toBe(1_000);
  });

  it("when the pair rate limit refuses, then the wait grows by four per attempt (Meta: 4^X seconds)", () => {
    const policy = { ...DEFAULT_RETRY_POLICY, pairRateBaseDelayMs: 1_000 };
    expect(backoffDelay("retry_recipient", 1, policy, () => 0.999999)).toBe(1_000);
    expect(backoffDelay("retry_recipient", 2, policy, () => 0.999999)).toBe(4_000);
    expect(backoffDelay("retry_recipient", 3, policy, () => 0.999999)).toBe(16_000);
  });
});
