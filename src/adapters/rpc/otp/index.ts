import type { ServiceImpl } from "@connectrpc/connect";

import type { AppContext } from "../../../context.js";
import { OtpService } from "../../../../gen/whatsapp/v1/otp_pb.js";
import { unimplementedService } from "../unimplemented.js";

export function otpService(_app: AppContext): ServiceImpl<typeof OtpService> {
  return unimplementedService(OtpService, "the one-time codes work");
}
