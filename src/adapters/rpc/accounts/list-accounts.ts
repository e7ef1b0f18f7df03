import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { listAccounts } from "../../../app/accounts/read-accounts.js";
import type { AccountRepository } from "../../../ports/account-repository.js";
import { ListAccountsResponseSchema, type ListAccountsRequest, type ListAccountsResponse, type AccountService } from "../../../../gen/whatsapp/v1/account_pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";
import { accountToPb } from "./account-mapper.js";

export function listAccountsRpc(deps: { accounts: AccountRepository }): RpcImpl<typeof AccountService, "listAccounts"> {
  return {
    async listAccounts(req: ListAccountsRequest, ctx: HandlerContext): Promise<ListAccountsResponse> {
      const page = await listAccounts(deps, tenantOf(ctx), req.pageSize, req.pageToken);
      return create(ListAccountsResponseSchema, { accounts: page.accounts.map(accountToPb), nextPageToken: page.nextPageToken });
    },
  };
}
