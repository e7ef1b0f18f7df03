import { describe, expect, it } from "vitest";

import { assertMarketingAllowed } from "./marketing-opt-out.js";

const OPTED_OUT = { optedOut: true };

describe("assertMarketingAllowed", () => {
  it("when the contact opted out and the send is a MARKETING template or at marketing priority, then CONTACT_OPTED_OUT", () => {
    for (const send of [{ priority: "transactional" as const, templateCategory: "MARKETING" }, { priority: "marketing" as const, templateCategory: undefined }]) {
      expect(() => assertMarketingAllowed(OPTED_OUT, send, "+14155552671")).toThrow(expect.objectContaining({ kind: "failed_precondition", reason: "CONTACT_OPTED_OUT" }));
    }
  });

  it("when the contact opted out and the send is a utility or authentication template, or free-form at transactional priority, then it may go", () => {
    for (const templateCategory of ["UTILITY", "AUTHENTICATION", undefined]) {
      expect(() => assertMarketingAllowed(OPTED_OUT, { priority: "transactional", templateCategory }, "+14155552671")).not.toThrow();
    }
  });

  it("when the contact did not opt out, or is not known yet, then marketing may go", () => {
    const send = { priority: "marketing" as const, templateCategory: "MARKETING" };
    expect(() => assertMarketingAllowed({ optedOut: false }, send, "+14155552671")).not.toThrow();
    expect(() => assertMarketingAllowed(undefined, send, "+14155552671")).not.toThrow();
  });
});
