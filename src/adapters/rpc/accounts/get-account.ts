import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { getAccount } from "../../../app/accounts/read-accounts.js";
import type { AccountRepository } from "../../../ports/account-repository.js";
import { GetAccountResponseSchema, type GetAccountRequest, type GetAccountResponse, type AccountService } from "../../../../gen/whatsapp/v1/account_pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";
import { accountToPb } from "./account-mapper.js";

export function getAccountRpc(deps: { accounts: AccountRepository }): RpcImpl<typeof AccountService, "getAccount"> {
  return {
    async getAccount(req: GetAccountRequest, ctx: HandlerContext): Promise<GetAccountResponse> {
      const account = await getAccount(deps, tenantOf(ctx), req.accountId);
      return create(GetAccountResponseSchema, { account: accountToPb(account) });
    },
  };
}
