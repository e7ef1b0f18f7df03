import { describe, expect, it } from "vitest";

import { isBsuid, isParentBsuid, planLink, senderKeys } from "./contact-identity.js";

describe("contact identity", () => {
  const older = { id: "b", firstSeenTime: new Date("2026-01-01T00:00:00Z") };
  const newer = { id: "a", firstSeenTime: new Date("2026-02-01T00:00:00Z") };

  it("when no contact has either identifier, then one is created", () => {
    expect(planLink(undefined, undefined)).toEqual({ kind: "create" });
  });

  it("when one contact has one or both identifiers, then it is updated", () => {
    expect(planLink(older, undefined)).toEqual({ kind: "update", contactId: "b" });
    expect(planLink(undefined, newer)).toEqual({ kind: "update", contactId: "a" });
    expect(planLink(older, older)).toEqual({ kind: "update", contactId: "b" });
  });

  it("when the identifiers point at two contacts, then the one seen first survives, whichever identifier found it", () => {
    expect(planLink(newer, older)).toEqual({ kind: "merge", survivorId: "b", absorbedId: "a" });
    expect(planLink(older, newer)).toEqual({ kind: "merge", survivorId: "b", absorbedId: "a" });
  });

  it("when both were first seen at once, then the smaller id survives (every replica picks the same)", () => {
    const same = newer.firstSeenTime;
    expect(planLink({ id: "z", firstSeenTime: same }, { id: "c", firstSeenTime: same })).toEqual({ kind: "merge", survivorId: "c", absorbedId: "z" });
  });

  it("when telling BSUIDs from phone numbers, then the country-prefixed forms are BSUIDs", () => {
    expect(isBsuid("US.13491208655302741918")).toBe(true);
    expect(isBsuid("PE.967744529547245")).toBe(true);
    expect(isParentBsuid("US.ENT.11815799212886844830")).toBe(true);
    expect(isParentBsuid("US.13491208655302741918")).toBe(false);
    expect(isBsuid("+14155552671")).toBe(false);
    expect(isBsuid("14155552671")).toBe(false);
  });

  it("when a message names its sender, then each identifier gives a key", () => {
    expect(senderKeys({ waId: "1415", fromUserId: "US.1" })).toEqual(["wa:1415", "bsuid:US.1"]);
    expect(senderKeys({ waId: "", fromUserId: "US.1" })).toEqual(["bsuid:US.1"]);
    expect(senderKeys({ waId: "1415" })).toEqual(["wa:1415"]);
  });
});
