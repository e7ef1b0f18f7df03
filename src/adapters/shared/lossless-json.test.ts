import { describe, expect, it } from "vitest";
import { parseJsonLossless, quoteUnsafeIntegers } from "./lossless-json.js";

describe("parseJsonLossless", () => {
  it("when an id is a JSON number beyond 2^53, then its digits are kept exactly as text", () => {
    const parsed = parseJsonLossless('{"id": 12345678901234567890, "other": 12345678901234567891}') as Record<string, unknown>;
    expect(parsed.id).toBe("12345678901234567890");
    expect(parsed.other).toBe("12345678901234567891");
    // what JSON.parse alone does: both collapse onto one double
    const plain = JSON.parse('{"id": 12345678901234567890, "other": 12345678901234567891}') as Record<string, number>;
    expect(plain.id).toBe(plain.other);
  });

  it("when numbers are safe integers, fractions or exponents, then they stay numbers", () => {
    expect(parseJsonLossless('{"a": 1700000000, "b": -42, "c": 1.5, "d": 1e3, "e": 9007199254740991}')).toEqual({
      a: 1700000000,
      b: -42,
      c: 1.5,
      d: 1000,
      e: 9007199254740991,
    });
  });

  it("when long digit runs sit inside strings (escaped quotes too), then the text is untouched", () => {
    const text = '{"s": "12345678901234567890", "t": "say \\"12345678901234567890\\"", "n": [-12345678901234567890]}';
    expect(parseJsonLossless(text)).toEqual({ s: "12345678901234567890", t: 'say "12345678901234567890"', n: ["-12345678901234567890"] });
  });

  it("when the body has no unsafe literal, then the text is returned as it was (no copy)", () => {
    const text = '{"ts": "1700000000", "n": 123}';
    expect(quoteUnsafeIntegers(text)).toBe(text);
  });

  it("when the JSON is malformed, then it still throws", () => {
    expect(() => parseJsonLossless('{"id": 12345678901234567890')).toThrow();
  });
});
