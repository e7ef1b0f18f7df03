import { describe, expect, it } from "vitest";
import { normalisePhoneNumber } from "./phone.js";

describe("normalisePhoneNumber", () => {
  it("when a number has spaces and dashes, then it comes back in E.164", () => {
    expect(normalisePhoneNumber("+1 (415) 555-2671")).toBe("+14155552671");
  });
  it("when a number is a WhatsApp id (digits without plus), then it is read as international", () => {
    expect(normalisePhoneNumber("14155552671")).toBe("+14155552671");
  });
  it("when a number is one of Meta's +1 555 test numbers, then it is accepted", () => {
    expect(normalisePhoneNumber("+15550783881")).toBe("+15550783881");
    expect(normalisePhoneNumber("+1 555-123-4567")).toBe("+15551234567");
  });
  it("when a number cannot exist, then it is refused", () => {
    expect(normalisePhoneNumber("+1 555")).toBeUndefined();
    expect(normalisePhoneNumber("+1 555 078 38810 123")).toBeUndefined();
    expect(normalisePhoneNumber("+999 1234567")).toBeUndefined();
    expect(normalisePhoneNumber("hello")).toBeUndefined();
  });
});
