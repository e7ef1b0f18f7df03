import type { ServiceImpl } from "@connectrpc/connect";

import type { SendOtpDeps } from "../../../app/otp/send-otp.js";
import type { VerifyOtpDeps } from "../../../app/otp/verify-otp.js";
import type { OtpService } from "../../../../gen/whatsapp/v1/otp_pb.js";
import { sendOtpRpc } from "./send-otp.js";
import { verifyOtpRpc } from "./verify-otp.js";

/** What OtpService's handlers use: the OTP store, the limits (OTP_* settings), the code key and sealer, ids and the clock. */
export type OtpServiceDeps = SendOtpDeps & VerifyOtpDeps;

/** OtpService: one file per RPC. */
export function otpService(deps: OtpServiceDeps): ServiceImpl<typeof OtpService> {
  return {
    ...sendOtpRpc(deps),
    ...verifyOtpRpc(deps),
  };
}
