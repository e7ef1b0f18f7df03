import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { deleteAccount } from "../../../app/accounts/read-accounts.js";
import type { AppContext } from "../../../context.js";
import { DeleteAccountResponseSchema, type DeleteAccountRequest, type DeleteAccountResponse } from "../../../../gen/whatsapp/v1/account_pb.js";
import { tenantOf } from "../tenant-context.js";

export function deleteAccountHandler(app: AppContext) {
  return async (req: DeleteAccountRequest, ctx: HandlerContext): Promise<DeleteAccountResponse> => {
    await deleteAccount(app, tenantOf(ctx), req.accountId);
    return create(DeleteAccountResponseSchema, {});
  };
}
