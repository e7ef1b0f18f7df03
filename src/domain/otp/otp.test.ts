import { describe, expect, it } from "vitest";

import { codeMatches, generateCode, hashCode } from "./code.js";
import { judgeAttempt, type StoredOtp } from "./otp.js";
import { revealSealedCodes, SEALED_CODE_PREFIX } from "./sealed-code.js";
import { codeInText } from "./typed-code.js";

const KEY = Buffer.alloc(32, 7);
const NOW = new Date("2026-01-01T12:00:00Z");

function otp(over: Partial<StoredOtp> = {}): StoredOtp {
  const base = {
    id: "0190a000-0000-7000-8000-000000000001",
    accountId: "a",
    contactId: undefined,
    waId: "14155550100",
    messageId: undefined,
    conversationId: undefined,
    codeSalt: "salt",
    codeLength: 6,
    state: "pending" as const,
    attempts: 0,
    maxAttempts: 3,
    requestId: undefined,
    metadata: {},
    createTime: NOW,
    expireTime: new Date(NOW.getTime() + 60_000),
    resendAvailableTime: NOW,
  };
  return { ...base, codeHash: hashCode(KEY, base.codeSalt, base.id, "123456"), ...over };
}

describe("judgeAttempt", () => {
  it("when the code matches a pending OTP, then it verifies and counts the attempt", () => {
    expect(judgeAttempt(otp(), NOW, () => true)).toEqual({ outcome: "verified", attemptsRemaining: 0, change: { state: "verified", attempts: 1 } });
  });

  it("when wrong codes come, then attempts count down and the last one voids the OTP", () => {
    expect(judgeAttempt(otp(), NOW, () => false)).toMatchObject({ outcome: "wrong_code", attemptsRemaining: 2 });
    expect(judgeAttempt(otp({ attempts: 1 }), NOW, () => false)).toMatchObject({ outcome: "wrong_code", attemptsRemaining: 1 });
    expect(judgeAttempt(otp({ attempts: 2 }), NOW, () => false)).toEqual({ outcome: "too_many_attempts", attemptsRemaining: 0, change: { state: "locked", attempts: 3 } });
  });

  it("when the OTP is used, void or past its expiry, then the code is not even compared", () => {
    const never = () => {
      throw new Error("compared");
    };
    expect(judgeAttempt(otp({ state: "verified" }), NOW, never)).toMatchObject({ outcome: "already_used", change: undefined });
    expect(judgeAttempt(otp({ state: "locked" }), NOW, never)).toMatchObject({ outcome: "too_many_attempts", change: undefined });
    expect(judgeAttempt(otp({ state: "expired" }), NOW, never)).toMatchObject({ outcome: "expired", change: undefined });
    expect(judgeAttempt(otp(), new Date(NOW.getTime() + 60_000), never)).toMatchObject({ outcome: "expired", change: { state: "expired" } });
  });
});

describe("codes", () => {
  it("when generated, then they have the requested number of digits", () => {
    for (const length of [4, 6, 10]) expect(generateCode(length)).toMatch(new RegExp(`^[0-9]{${length}}$`));
  });

  it("when hashed, then the hash depends on key, salt, id and code, and only the right code matches", () => {
    const stored = otp();
    expect(codeMatches(KEY, stored, "123456")).toBe(true);
    expect(codeMatches(KEY, stored, "123457")).toBe(false);
    expect(codeMatches(Buffer.alloc(32, 8), stored, "123456")).toBe(false);
    expect(hashCode(KEY, "salt", "id", "1")).not.toBe(hashCode(KEY, "salt", "id1", ""));
  });

  it("when a message is typed, then only a whole-message code of 4 to 10 digits counts", () => {
    expect(codeInText(" 123456 ")).toBe("123456");
    expect(codeInText("123 456")).toBe("123456");
    expect(codeInText("12-34-56")).toBe("123456");
    for (const text of ["123", "12345678901", "code 123456", "123  456", "12a456", "-1234", ""]) expect(codeInText(text)).toBeUndefined();
  });
});

describe("revealSealedCodes", () => {
  const sealedBody = {
    type: "template",
    template: {
      name: "t",
      components: [
        { type: "body", parameters: [{ type: "text", text: `${SEALED_CODE_PREFIX}abc` }] },
        { type: "button", sub_type: "url", index: "0", parameters: [{ type: "text", text: `${SEALED_CODE_PREFIX}abc` }] },
      ],
    },
  };

  it("when a template carries sealed codes, then each is opened and nothing else changes", () => {
    const opened = revealSealedCodes(sealedBody, (s) => (s === "abc" ? "999111" : "?"));
    expect(opened.template.components.flatMap((c) => c.parameters.map((p) => p.text))).toEqual(["999111", "999111"]);
    expect(sealedBody.template.components[0]!.parameters[0]!.text).toBe(`${SEALED_CODE_PREFIX}abc`);
  });

  it("when nothing is sealed, then the body is returned as it is", () => {
    const body = { type: "text", text: { body: `${SEALED_CODE_PREFIX}abc` } };
    expect(revealSealedCodes(body, () => "x")).toBe(body);
  });
});
