import { describe, expect, it } from "vitest";

import { DomainError } from "../errors.js";
import { decodePageToken, encodePageToken, pageSizeOf } from "./page-token.js";

const key = { time: "2025-06-01 12:00:00.123456+00", id: "01970000-0000-7000-8000-000000000001" };

function refusal(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error("accepted");
}

describe("page tokens", () => {
  it("when a token is read back for the same query, then it gives the key it was made from", () => {
    expect(decodePageToken(encodePageToken(key, "conversations|{}"), "conversations|{}")).toEqual(key);
    expect(decodePageToken("", "anything")).toBeUndefined();
  });

  it("when a token is used with other filters, edited, or is not one of ours, then it is InvalidArgument on page_token", () => {
    const token = encodePageToken(key, 'conversations|{"status":"active"}');
    for (const [bad, scope] of [
      [token, "conversations|{}"],
      ["garbage", "conversations|{}"],
      [Buffer.from(JSON.stringify({ k: ["yesterday", key.id], q: "1" })).toString("base64url"), "conversations|{}"],
      [Buffer.from(JSON.stringify({ k: [key.time, "1; drop table"], q: "1" })).toString("base64url"), "conversations|{}"],
    ] as const) {
      const error = refusal(() => decodePageToken(bad, scope));
      expect(error.kind).toBe("invalid_argument");
      expect(error.violations.map((v) => v.field)).toEqual(["page_token"]);
    }
  });

  it("when no page size is asked, then 50; never more than 1000", () => {
    expect([pageSizeOf(0), pageSizeOf(7), pageSizeOf(5000)]).toEqual([50, 7, 1000]);
  });
});
