import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";

import { verifyOtp, type VerifyOtpDeps, type VerifyTarget } from "../../../app/otp/verify-otp.js";
import { DomainError } from "../../../domain/errors.js";
import type { OtpOutcome as Outcome } from "../../../domain/otp/otp.js";
import { OtpOutcome, VerifyOtpResponseSchema, type VerifyOtpRequest, type VerifyOtpResponse, type OtpService } from "../../../../gen/whatsapp/v1/otp_pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";

const OUTCOME: Record<Outcome, OtpOutcome> = {
  verified: OtpOutcome.VERIFIED,
  wrong_code: OtpOutcome.WRONG_CODE,
  expired: OtpOutcome.EXPIRED,
  too_many_attempts: OtpOutcome.TOO_MANY_ATTEMPTS,
  not_found: OtpOutcome.NOT_FOUND,
  already_used: OtpOutcome.ALREADY_USED,
};

export function verifyOtpRpc(deps: VerifyOtpDeps): RpcImpl<typeof OtpService, "verifyOtp"> {
  return {
    async verifyOtp(req: VerifyOtpRequest, ctx: HandlerContext): Promise<VerifyOtpResponse> {
      let target: VerifyTarget;
      switch (req.target.case) {
        case "otpId":
          target = { otpId: req.target.value };
          break;
        case "phone":
          target = { phone: req.target.value, accountId: req.accountId || undefined };
          break;
        default:
          throw DomainError.invalid([{ field: "target", description: "otp_id or phone is required" }]);
      }
      const result = await verifyOtp(deps, tenantOf(ctx), target, req.code);
      return create(VerifyOtpResponseSchema, { outcome: OUTCOME[result.outcome], attemptsRemaining: result.attemptsRemaining, otpId: result.otpId });
    },
  };
}
