/**
 * A code the user types back in the WhatsApp chat (a signed Meta webhook
 * through the real inbox) verifies the OTP in the transaction that stores
 * the message, and publishes exactly one otp.verified (CHAT_REPLY).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { Account } from "../../gen/whatsapp/v1/account_pb.js";
import { OtpVerificationMethod } from "../../gen/whatsapp/v1/events_pb.js";
import { OtpOutcome } from "../../gen/whatsapp/v1/otp_pb.js";
import { AUTH_TEMPLATE, createOtpAccount, newRecipient, otpEvents, otpRow, otpTenant, startOtpHarness, userTypes, type OtpHarness, type OtpTenant } from "./support.js";

let harness: OtpHarness;
let tenant: OtpTenant;
let account: Account;

beforeAll(async () => {
  harness = await startOtpHarness();
  tenant = otpTenant(harness, "typed");
  account = await createOtpAccount(harness, tenant);
});

afterAll(async () => {
  await harness?.cleanup();
});

async function sendCode(phone: string, code: string, metadata: Record<string, string> = {}) {
  return tenant.otp.sendOtp({ accountId: account.id, phone, code, templateName: AUTH_TEMPLATE, metadata });
}

describe("a code typed back in the chat", () => {
  it("when the user types the code, then the OTP is verified via chat and one otp.verified names the message; typing it again changes nothing", async () => {
    const phone = newRecipient();
    const sent = await sendCode(phone, "482913", { login: "web-7" });
    const typed = await userTypes(harness, tenant, account, phone.slice(1), " 482 913 ");

    const row = (await otpRow(harness, tenant, sent.otpId))!;
    expect(row).toMatchObject({ state: "verified", verified_via: "chat", attempts: 1 });
    const events = (await otpEvents(harness, tenant)).filter((e) => e.otpId === sent.otpId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      tenantId: tenant.id,
      accountId: account.id,
      phone,
      method: OtpVerificationMethod.CHAT_REPLY,
      messageId: typed.id,
      contactId: row.contact_id,
      metadata: { login: "web-7" },
    });
    expect(events[0]!.conversationId).not.toBe("");

    await userTypes(harness, tenant, account, phone.slice(1), "482913");
    expect((await otpEvents(harness, tenant)).filter((e) => e.otpId === sent.otpId)).toHaveLength(1);
    const api = await tenant.otp.verifyOtp({ target: { case: "otpId", value: sent.otpId }, code: "482913" });
    expect(api.outcome).toBe(OtpOutcome.ALREADY_USED);
  });

  it("when the user types something else or a wrong number, then nothing is verified and no attempt is counted", async () => {
    const phone = newRecipient();
    const sent = await sendCode(phone, "7391");
    for (const text of ["hola", "my code is 7391", "1234", "73 91 00 11 22 33"]) await userTypes(harness, tenant, account, phone.slice(1), text);
    expect((await otpRow(harness, tenant, sent.otpId))!).toMatchObject({ state: "pending", attempts: 0 });
    expect((await otpEvents(harness, tenant)).filter((e) => e.otpId === sent.otpId)).toHaveLength(0);
    const api = await tenant.otp.verifyOtp({ target: { case: "otpId", value: sent.otpId }, code: "7391" });
    expect(api.outcome).toBe(OtpOutcome.VERIFIED);
  });

  it("when another user types the code, or the code has expired, then it does not verify", async () => {
    const phone = newRecipient();
    const sent = await sendCode(phone, "55120934");
    await userTypes(harness, tenant, account, newRecipient().slice(1), "55120934");
    expect((await otpRow(harness, tenant, sent.otpId))!.state).toBe("pending");

    harness.clock.advance(11 * 60_000);
    await userTypes(harness, tenant, account, phone.slice(1), "5512-0934");
    expect((await otpRow(harness, tenant, sent.otpId))!.state).toBe("pending");
    expect((await otpEvents(harness, tenant)).filter((e) => e.otpId === sent.otpId)).toHaveLength(0);
  });
});
