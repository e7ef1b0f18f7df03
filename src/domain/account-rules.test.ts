import { describe, expect, it } from "vitest";

import { checkCredentials, checkPhoneNumberId, effectiveRateLimit } from "./account-rules.js";

const SID = "AC0123456789abcdef0123456789abcdef";

describe("account rules for Twilio", () => {
  it("when no rate is given, then a Twilio account gets Twilio's 10/s per sender and a Meta one Meta's 80/s", () => {
    expect(effectiveRateLimit(0, "twilio")).toBe(10);
    expect(effectiveRateLimit(0, "meta")).toBe(80);
    expect(effectiveRateLimit(25, "twilio")).toBe(25);
  });

  it("when the phone number id is not the sender in E.164, then it is refused with the expected form", () => {
    expect(checkPhoneNumberId("twilio", "+14155238886", "f")).toEqual([]);
    expect(checkPhoneNumberId("twilio", "14155238886", "f")).toEqual([
      { field: "f", description: "must be the Twilio WhatsApp sender in E.164, without the whatsapp: prefix (e.g. +14155238886)" },
    ]);
  });

  it("when credentials are missing or malformed, then each is named", () => {
    expect(checkCredentials("twilio", { twilioAccountSid: SID, twilioAuthToken: "t" }, "c")).toEqual([]);
    expect(checkCredentials("twilio", {}, "c").map((v) => v.field)).toEqual(["c.twilio_account_sid", "c.twilio_auth_token"]);
    expect(
      checkCredentials("twilio", { twilioAccountSid: "AC123", twilioAuthToken: "t", twilioMessagingServiceSid: "XX1" }, "c").map((v) => v.field),
    ).toEqual(["c.twilio_account_sid", "c.twilio_messaging_service_sid"]);
  });
});
