import type { ServiceImpl } from "@connectrpc/connect";
import type { AppContext } from "../../../context.js";
import type { AccountService } from "../../../../gen/whatsapp/v1/account_pb.js";
import { createAccountHandler } from "./create-account.js";
import { deleteAccountHandler } from "./delete-account.js";
import { getAccountMetricsHandler } from "./get-account-metrics.js";
import { getAccountHandler } from "./get-account.js";
import { listAccountsHandler } from "./list-accounts.js";
import { updateAccountHandler } from "./update-account.js";

export function accountService(app: AppContext): ServiceImpl<typeof AccountService> {
  return {
    createAccount: createAccountHandler(app),
    getAccount: getAccountHandler(app),
    updateAccount: updateAccountHandler(app),
    listAccounts: listAccountsHandler(app),
    deleteAccount: deleteAccountHandler(app),
    getAccountMetrics: getAccountMetricsHandler(app),
  };
}
