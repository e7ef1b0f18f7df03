import { describe, expect, it } from "vitest";

import { normaliseRecipient } from "./recipient.js";

describe("normaliseRecipient", () => {
  it("when the number is E.164 with or without + (or with spaces), then it is E.164 and its WhatsApp id is the digits", () => {
    expect(normaliseRecipient("+593987654321")).toEqual({ e164: "+593987654321", waId: "593987654321" });
    expect(normaliseRecipient("14155552671")).toEqual({ e164: "+14155552671", waId: "14155552671" });
    expect(normaliseRecipient("+1 (415) 555-2671")).toEqual({ e164: "+14155552671", waId: "14155552671" });
  });

  it("when a Mexican WhatsApp id keeps the legacy mobile 1 (521…), then it is accepted as given", () => {
    expect(normaliseRecipient("+5215512345678")).toEqual({ e164: "+5215512345678", waId: "5215512345678" });
  });

  it("when the number cannot exist (too short for its country, unknown country code, letters), then it is refused", () => {
    expect(normaliseRecipient("+12345678")).toBeUndefined();
    expect(normaliseRecipient("+999123456789")).toBeUndefined();
    expect(normaliseRecipient("+1415555CALL")).toBeUndefined();
    expect(normaliseRecipient("")).toBeUndefined();
  });
});
