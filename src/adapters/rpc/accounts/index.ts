import type { ServiceImpl } from "@connectrpc/connect";
import type { CreateAccountDeps } from "../../../app/accounts/create-account.js";
import type { AccountService } from "../../../../gen/whatsapp/v1/account_pb.js";
import { createAccountRpc } from "./create-account.js";
import { deleteAccountRpc } from "./delete-account.js";
import { getAccountMetricsRpc } from "./get-account-metrics.js";
import { getAccountRpc } from "./get-account.js";
import { listAccountsRpc } from "./list-accounts.js";
import { updateAccountRpc } from "./update-account.js";

/** What AccountService's handlers use: the account repository, ids and the clock. */
export type AccountServiceDeps = CreateAccountDeps & { now: () => Date };

/** AccountService: one file per RPC. */
export function accountService(deps: AccountServiceDeps): ServiceImpl<typeof AccountService> {
  return {
    ...createAccountRpc(deps),
    ...getAccountRpc(deps),
    ...updateAccountRpc(deps),
    ...listAccountsRpc(deps),
    ...deleteAccountRpc(deps),
    ...getAccountMetricsRpc(deps),
  };
}
