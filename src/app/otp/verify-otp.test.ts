/** sendOtp then verifyOtp over in-memory ports: single use, counted attempts, the otp.verified event. */
import { randomBytes, randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import { InMemoryOtpStore } from "../../../test/kit/fakes/otp-store.js";
import { deriveCodeKey } from "../../domain/otp/code.js";
import { sendOtp } from "./send-otp.js";
import { verifyOtp } from "./verify-otp.js";

const TENANT = "acme";

function setup(maxAttempts = 3) {
  const otps = new InMemoryOtpStore();
  const account = otps.tables.addAccount(TENANT);
  otps.tables.of(TENANT).approvedAuthTemplates.set(`${account.wabaId}/verify_code`, ["en_US"]);
  let now = new Date("2026-12-04T10:00:00Z");
  const deps = {
    otps,
    policy: { maxAttempts, resendCooldownMs: 60_000, maxPerPhonePerHour: 10, maxPerTenantPerMinute: 600, templateName: "verify_code", templateLanguage: "en_US" },
    codeKey: deriveCodeKey(randomBytes(32)),
    sealCode: (code: string) => `sealed:${code}`,
    newId: () => randomUUID(),
    now: () => now,
  };
  const send = (code: string) =>
    sendOtp(deps, TENANT, { accountId: account.id, phone: "+14155552671", code, codeLength: 0, ttlMs: undefined, templateName: "", templateLanguage: "", requestId: "", metadata: { flow: "login" } });
  return { deps, send, tables: () => otps.tables.of(TENANT), advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

describe("verifyOtp", () => {
  it("when the right code is given, then it verifies once with one otp.verified event, and again it is ALREADY_USED", async () => {
    const { deps, send, tables } = setup();
    const { otpId } = await send("482913");

    const first = await verifyOtp(deps, TENANT, { otpId }, "482913");
    const again = await verifyOtp(deps, TENANT, { otpId }, "482913");

    expect(first).toEqual({ outcome: "verified", attemptsRemaining: 0, otpId });
    expect(again.outcome).toBe("already_used");
    expect(tables().otpVerified).toHaveLength(1);
    expect(tables().otpVerified[0]).toMatchObject({ otpId, phone: "+14155552671", via: "api", metadata: { flow: "login" } });
  });

  it("when wrong codes use up the attempts, then the last one voids the code and even the right one is refused after", async () => {
    const { deps, send, tables } = setup(2);
    const { otpId } = await send("482913");

    expect(await verifyOtp(deps, TENANT, { otpId }, "000000")).toMatchObject({ outcome: "wrong_code", attemptsRemaining: 1 });
    expect(await verifyOtp(deps, TENANT, { otpId }, "111111")).toMatchObject({ outcome: "too_many_attempts", attemptsRemaining: 0 });
    expect(await verifyOtp(deps, TENANT, { otpId }, "482913")).toMatchObject({ outcome: "too_many_attempts" });
    expect(tables().otpVerified).toEqual([]);
  });

  it("when the code has expired, then EXPIRED", async () => {
    const { deps, send, advance } = setup();
    const { otpId } = await send("482913");
    advance(60 * 60 * 1000);
    expect((await verifyOtp(deps, TENANT, { otpId }, "482913")).outcome).toBe("expired");
  });

  it("when verified by phone, then the phone's latest code is the one checked; an unknown phone is NOT_FOUND", async () => {
    const { deps, send } = setup();
    const { otpId } = await send("482913");
    expect(await verifyOtp(deps, TENANT, { phone: "+14155552671", accountId: undefined }, "482913")).toMatchObject({ outcome: "verified", otpId });
    expect((await verifyOtp(deps, TENANT, { phone: "+14155550199", accountId: undefined }, "482913")).outcome).toBe("not_found");
  });

  it("when the code was sent, then only its keyed hash is stored and the queued message carries it sealed", async () => {
    const { send, tables } = setup();
    const { otpId, messageId } = await send("482913");
    const stored = tables().otps.get(otpId)!;
    expect(JSON.stringify(stored)).not.toContain("482913");
    expect(JSON.stringify(tables().messages.get(messageId)!.content)).toContain("sealed:482913");
  });
});
