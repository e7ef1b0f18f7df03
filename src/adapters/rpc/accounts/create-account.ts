import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { createAccount, type CreateAccountDeps } from "../../../app/accounts/create-account.js";
import { CreateAccountResponseSchema, type CreateAccountRequest, type CreateAccountResponse, type AccountService } from "../../../../gen/whatsapp/v1/account_pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";
import { accountToPb, credentialsFromPb, providerFromPb, statusFromPb } from "./account-mapper.js";

export function createAccountRpc(deps: CreateAccountDeps): RpcImpl<typeof AccountService, "createAccount"> {
  return {
    async createAccount(req: CreateAccountRequest, ctx: HandlerContext): Promise<CreateAccountResponse> {
      // Presence of `account` and its provider are enforced by protovalidate before we get here.
      const input = req.account!;
      const account = await createAccount(deps, tenantOf(ctx), {
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
    },
  };
}
