import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { deleteAccount } from "../../../app/accounts/read-accounts.js";
import type { AccountRepository } from "../../../ports/account-repository.js";
import { DeleteAccountResponseSchema, type DeleteAccountRequest, type DeleteAccountResponse, type AccountService } from "../../../../gen/whatsapp/v1/account_pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";

export function deleteAccountRpc(deps: { accounts: AccountRepository }): RpcImpl<typeof AccountService, "deleteAccount"> {
  return {
    async deleteAccount(req: DeleteAccountRequest, ctx: HandlerContext): Promise<DeleteAccountResponse> {
      await deleteAccount(deps, tenantOf(ctx), req.accountId);
      return create(DeleteAccountResponseSchema, {});
    },
  };
}
