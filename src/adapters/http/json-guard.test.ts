import { describe, expect, it } from "vitest";
import { jsonDepthExceeds, MAX_JSON_DEPTH, parseJsonObject } from "./json-guard.js";

const bytes = (text: string) => Buffer.from(text, "utf8");

describe("jsonDepthExceeds", () => {
  it("when nesting is exactly the limit, then it is accepted; one more level, then it is refused", () => {
    expect(jsonDepthExceeds(bytes("[".repeat(64) + "]".repeat(64)), 64)).toBe(false);
    expect(jsonDepthExceeds(bytes("[".repeat(65) + "]".repeat(65)), 64)).toBe(true);
    expect(jsonDepthExceeds(bytes('{"a":'.repeat(65) + "1" + "}".repeat(65)), 64)).toBe(true);
  });

  it("when brackets and escaped quotes are inside strings, then they do not count", () => {
    const text = JSON.stringify({ text: "[".repeat(1000) + '\\"[[[' + "{".repeat(1000) });
    expect(jsonDepthExceeds(bytes(text), 2)).toBe(false);
  });

  it("when sibling containers follow each other, then depth is not summed", () => {
    expect(jsonDepthExceeds(bytes("[" + "[],".repeat(1000) + "[]]"), 2)).toBe(false);
  });
});

describe("parseJsonObject", () => {
  it("when the body is a JSON object, then it is parsed", () => {
    expect(parseJsonObject(bytes('{"object":"whatsapp_business_account","entry":[]}'))).toEqual({
      ok: true,
      value: { object: "whatsapp_business_account", entry: [] },
    });
  });

  it("when the body is truncated, an array, a scalar, not UTF-8 or starts with a BOM, then it is refused with a reason", () => {
    for (const body of [bytes('{"object":"whatsapp_business_acc'), bytes("[1,2]"), bytes('"x"'), bytes("null"), Buffer.from([0x7b, 0xff, 0x7d]), bytes('\ufeff{"a":1}'), bytes("")]) {
      const result = parseJsonObject(body);
      expect(result.ok).toBe(false);
    }
  });

  it("when the body is 100,000 opening brackets, then it is refused for depth without parsing", () => {
    const result = parseJsonObject(bytes("[".repeat(100_000)));
    expect(result).toEqual({ ok: false, reason: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` });
  });
});
