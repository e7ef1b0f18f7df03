import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { getAccount } from "../../../app/accounts/read-accounts.js";
import type { AppContext } from "../../../context.js";
import { GetAccountResponseSchema, type GetAccountRequest, type GetAccountResponse } from "../../../../gen/whatsapp/v1/account_pb.js";
import { tenantOf } from "../tenant-context.js";
import { accountToPb } from "./account-mapper.js";

export function getAccountHandler(app: AppContext) {
  return async (req: GetAccountRequest, ctx: HandlerContext): Promise<GetAccountResponse> => {
    const account = await getAccount(app, tenantOf(ctx), req.accountId);
    return create(GetAccountResponseSchema, { account: accountToPb(account) });
  };
}
