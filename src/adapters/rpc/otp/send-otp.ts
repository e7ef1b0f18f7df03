import { create } from "@bufbuild/protobuf";
import { durationFromMs, durationMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, type HandlerContext } from "@connectrpc/connect";

import { sendOtp, type SendOtpDeps } from "../../../app/otp/send-otp.js";
import { OtpLimitError } from "../../../domain/otp/otp.js";
import { RetryInfoSchema } from "../../../../gen/google/rpc/error_details_pb.js";
import { SendOtpResponseSchema, type SendOtpRequest, type SendOtpResponse, type OtpService } from "../../../../gen/whatsapp/v1/otp_pb.js";
import { connectError } from "../errors.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";

export function sendOtpRpc(deps: SendOtpDeps): RpcImpl<typeof OtpService, "sendOtp"> {
  return {
    async sendOtp(req: SendOtpRequest, ctx: HandlerContext): Promise<SendOtpResponse> {
      let result;
      try {
        result = await sendOtp(deps, tenantOf(ctx), {
          accountId: req.accountId,
          phone: req.phone,
          userId: req.userId,
          code: req.code,
          codeLength: req.codeLength,
          ttlMs: req.ttl ? durationMs(req.ttl) : undefined,
          templateName: req.templateName,
          templateLanguage: req.templateLanguage,
          requestId: req.requestId,
          metadata: req.metadata,
        });
      } catch (error) {
        if (error instanceof OtpLimitError) throw limitError(error);
        throw error;
      }
      return create(SendOtpResponseSchema, {
        otpId: result.otpId,
        expireTime: timestampFromDate(result.expireTime),
        resendAvailableTime: timestampFromDate(result.resendAvailableTime),
        messageId: result.messageId,
        phone: result.phone,
        maxAttempts: result.maxAttempts,
      });
    },
  };
}

/** RESOURCE_EXHAUSTED with RetryInfo and Retry-After, like the per-tenant request limit. */
function limitError(error: OtpLimitError) {
  const refused = connectError(Code.ResourceExhausted, error.reason, error.message);
  refused.details.push({ desc: RetryInfoSchema, value: create(RetryInfoSchema, { retryDelay: durationFromMs(error.retryAfterMs) }) });
  refused.metadata.set("retry-after", String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))));
  return refused;
}
