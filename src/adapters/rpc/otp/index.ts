import type { ServiceImpl } from "@connectrpc/connect";

import type { AppContext } from "../../../context.js";
import type { OtpService } from "../../../../gen/whatsapp/v1/otp_pb.js";
import { PostgresOtpStore } from "../../postgres/stores/otp-store.js";
import { codeSealer } from "../../providers/sealed-otp-codes.js";
import { sendOtpHandler } from "./send-otp.js";
import { verifyOtpHandler } from "./verify-otp.js";

export function otpService(app: AppContext): ServiceImpl<typeof OtpService> {
  const otps = new PostgresOtpStore(app.database.db, {
    newId: app.newId,
    onEventsCommitted: () => app.outboxWakeup.notify(),
    // The code's message goes out at once instead of at the sender's next poll.
    onJobsCommitted: () => app.sendWakeup.notify(),
  });
  const { otp } = app.config;
  const policy = {
    maxAttempts: otp.maxAttempts,
    resendCooldownMs: otp.resendCooldownSeconds * 1000,
    maxPerPhonePerHour: otp.maxPerPhonePerHour,
    maxPerTenantPerMinute: otp.maxPerTenantPerMinute,
    templateName: otp.templateName,
    templateLanguage: otp.templateLanguage,
  };
  const deps = { otps, policy, codeKey: app.otpCodeKey, sealCode: codeSealer(app.secretBox), newId: app.newId, now: app.now };
  return {
    sendOtp: sendOtpHandler(deps),
    verifyOtp: verifyOtpHandler(deps),
  };
}
