import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { UPDATABLE_ACCOUNT_FIELDS, updateAccount, type UpdatableAccountField } from "../../../app/accounts/update-account.js";
import type { AccountRepository } from "../../../ports/account-repository.js";
import { DomainError } from "../../../domain/errors.js";
import {
  UpdateAccountResponseSchema,
  type Account as PbAccount,
  type AccountService,
  type UpdateAccountRequest,
  type UpdateAccountResponse,
} from "../../../../gen/whatsapp/v1/account_pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";
import { accountToPb, credentialsFromPb, statusFromPb } from "./account-mapper.js";

const UPDATABLE = new Set<string>(UPDATABLE_ACCOUNT_FIELDS);

/**
 * AIP-134: with an update mask, exactly the named fields change (an empty
 * value clears, except credentials, which are only ever replaced); without
 * one, every field the request sets to a non-empty value changes.
 */
function fieldsToUpdate(account: PbAccount, paths: readonly string[]): Set<UpdatableAccountField> {
  if (paths.length > 0) {
    const unknown = paths.filter((p) => !UPDATABLE.has(p));
    if (unknown.length > 0) {
      throw DomainError.invalid(unknown.map((p) => ({ field: "update_mask", description: `"${p}" cannot be updated` })));
    }
    return new Set(paths as UpdatableAccountField[]);
  }
  const present: Record<UpdatableAccountField, boolean> = {
    display_name: account.displayName !== "",
    phone_number_id: account.phoneNumberId !== "",
    waba_id: account.wabaId !== "",
    display_phone_number: account.displayPhoneNumber !== "",
    business_id: account.businessId !== "",
    rate_limit_per_second: account.rateLimitPerSecond !== 0,
    status: account.status !== 0,
    credentials: account.credentials !== undefined,
    metadata: Object.keys(account.metadata).length > 0,
  };
  return new Set(UPDATABLE_ACCOUNT_FIELDS.filter((f) => present[f]));
}

export function updateAccountRpc(deps: { accounts: AccountRepository }): RpcImpl<typeof AccountService, "updateAccount"> {
  return {
    async updateAccount(req: UpdateAccountRequest, ctx: HandlerContext): Promise<UpdateAccountResponse> {
      const input = req.account!;
      const account = await updateAccount(deps, tenantOf(ctx), {
        id: input.id,
        fields: fieldsToUpdate(input, req.updateMask?.paths ?? []),
        values: {
          displayName: input.displayName,
          phoneNumberId: input.phoneNumberId,
          wabaId: input.wabaId,
          displayPhoneNumber: input.displayPhoneNumber,
          businessId: input.businessId,
          rateLimitPerSecond: input.rateLimitPerSecond,
          status: statusFromPb(input.status),
          credentials: credentialsFromPb(input.credentials),
          metadata: input.metadata,
        },
      });
      return create(UpdateAccountResponseSchema, { account: accountToPb(account) });
    },
  };
}
