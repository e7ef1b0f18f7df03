import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { listAccounts } from "../../../app/accounts/read-accounts.js";
import type { AppContext } from "../../../context.js";
import { ListAccountsResponseSchema, type ListAccountsRequest, type ListAccountsResponse } from "../../../../gen/whatsapp/v1/account_pb.js";
import { tenantOf } from "../tenant-context.js";
import { accountToPb } from "./account-mapper.js";

export function listAccountsHandler(app: AppContext) {
  return async (req: ListAccountsRequest, ctx: HandlerContext): Promise<ListAccountsResponse> => {
    const page = await listAccounts(app, tenantOf(ctx), req.pageSize, req.pageToken);
    return create(ListAccountsResponseSchema, { accounts: page.accounts.map(accountToPb), nextPageToken: page.nextPageToken });
  };
}
