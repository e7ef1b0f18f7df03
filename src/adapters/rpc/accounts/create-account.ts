import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { createAccount } from "../../../app/accounts/create-account.js";
import type { AppContext } from "../../../context.js";
import { CreateAccountResponseSchema, type CreateAccountRequest, type CreateAccountResponse } from "../../../../gen/whatsapp/v1/account_pb.js";
import { tenantOf } from "../tenant-context.js";
import { accountToPb, credentialsFromPb, providerFromPb, statusFromPb } from "./account-mapper.js";

export function createAccountHandler(app: AppContext) {
  return async (req: CreateAccountRequest, ctx: HandlerContext): Promise<CreateAccountResponse> => {
    // Presence of `account` and its provider are enforced by protovalidate before we get here.
    const input = req.account!;
    const account = await createAccount(app, tenantOf(ctx), {
      provider: providerFromPb(input.provider)!,
      displayName: input.displayName,
      phoneNumberId: input.phoneNumberId,
      wabaId: input.wabaId,
      displayPhoneNumber: input.displayPhoneNumber,
      businessId: input.businessId,
      rateLimitPerSecond: input.rateLimitPerSecond,
      status: statusFromPb(input.status),
      credentials: credentialsFromPb(input.credentials),
      metadata: input.metadata,
      requestId: req.requestId,
    });
    return create(CreateAccountResponseSchema, { account: accountToPb(account) });
  };
}
