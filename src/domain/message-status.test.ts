import { describe, expect, it } from "vitest";

import { advancesTo, reportedStatusFromMeta, type DeliveryStatus, type MessageStatus } from "./message-status.js";

describe("advancesTo", () => {
  it("when a status comes later in the chain, then the message moves (ranks may be skipped)", () => {
    const moves: [MessageStatus, DeliveryStatus][] = [
      ["queued", "sending"],
      ["sending", "sent"],
      ["sent", "delivered"],
      ["delivered", "read"],
      ["sent", "read"],
      ["queued", "read"],
    ];
    for (const [current, next] of moves) expect(advancesTo(current, next), `${current} → ${next}`).toBe(true);
  });

  it("when a status is earlier or equal (late or repeated), then nothing moves: read stays read", () => {
    const stale: [MessageStatus, DeliveryStatus][] = [
      ["read", "delivered"],
      ["read", "sent"],
      ["read", "read"],
      ["delivered", "sent"],
      ["delivered", "delivered"],
      ["sent", "sending"],
    ];
    for (const [current, next] of stale) expect(advancesTo(current, next), `${current} → ${next}`).toBe(false);
  });

  it("when failed arrives before the device confirmed the message, then it applies; after delivered or read, it does not", () => {
    expect(advancesTo("queued", "failed")).toBe(true);
    expect(advancesTo("sending", "failed")).toBe(true);
    expect(advancesTo("sent", "failed")).toBe(true);
    expect(advancesTo("delivered", "failed")).toBe(false);
    expect(advancesTo("read", "failed")).toBe(false);
  });

  it("when the message failed, then nothing leaves failed", () => {
    for (const next of ["sent", "delivered", "read", "failed"] as const) expect(advancesTo("failed", next)).toBe(false);
  });

  it("when the message is inbound (received), then provider statuses never apply", () => {
    for (const next of ["sent", "delivered", "read", "failed"] as const) expect(advancesTo("received", next)).toBe(false);
  });
});

describe("reportedStatusFromMeta", () => {
  it("when Meta reports played (voice note), then it counts as read", () => {
    expect(reportedStatusFromMeta("played")).toBe("read");
  });

  it("when Meta reports a status this code does not know, then it is undefined (skipped)", () => {
    expect(reportedStatusFromMeta("deleted")).toBeUndefined();
    expect(reportedStatusFromMeta("")).toBeUndefined();
  });
});
