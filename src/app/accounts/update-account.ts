import type { Account, AccountCredentials, AccountStatus } from "../../domain/account.js";
import {
  checkCredentials,
  checkPhoneNumberId,
  checkRateLimit,
  effectiveRateLimit,
  normaliseDisplayPhoneNumber,
} from "../../domain/account-rules.js";
import { DomainError, type FieldViolation } from "../../domain/errors.js";
import type { AccountChanges, AccountRepository } from "../../ports/account-repository.js";

/** Fields of an account a caller may change, by their API name (update mask paths). */
export const UPDATABLE_ACCOUNT_FIELDS = [
  "display_name",
  "phone_number_id",
  "waba_id",
  "display_phone_number",
  "business_id",
  "rate_limit_per_second",
  "status",
  "credentials",
  "metadata",
] as const;
export type UpdatableAccountField = (typeof UPDATABLE_ACCOUNT_FIELDS)[number];

export interface UpdateAccountInput {
  id: string;
  /** Which fields to apply; the values come from `values`. */
  fields: ReadonlySet<UpdatableAccountField>;
  values: {
    displayName: string;
    phoneNumberId: string;
    wabaId: string;
    displayPhoneNumber: string;
    businessId: string;
    rateLimitPerSecond: number;
    status: AccountStatus | undefined;
    /** Merged by name: a credential given replaces the stored one, others stay. */
    credentials: AccountCredentials;
    metadata: Record<string, string>;
  };
}

export async function updateAccount(deps: { accounts: AccountRepository }, tenantId: string, input: UpdateAccountInput): Promise<Account> {
  const current = await deps.accounts.get(tenantId, input.id);
  if (current === null) throw DomainError.notFound("account", input.id);

  const { fields, values } = input;
  const changes: AccountChanges = {};
  const violations: FieldViolation[] = [];
  if (fields.has("display_name")) changes.displayName = values.displayName;
  if (fields.has("waba_id")) changes.wabaId = values.wabaId;
  if (fields.has("business_id")) changes.businessId = values.businessId;
  if (fields.has("metadata")) changes.metadata = values.metadata;
  if (fields.has("phone_number_id")) {
    violations.push(...checkPhoneNumberId(current.provider, values.phoneNumberId, "account.phone_number_id"));
    changes.phoneNumberId = values.phoneNumberId;
  }
  if (fields.has("display_phone_number")) {
    const phone = normaliseDisplayPhoneNumber(values.displayPhoneNumber, "account.display_phone_number");
    violations.push(...phone.violations);
    changes.displayPhoneNumber = phone.value;
  }
  if (fields.has("rate_limit_per_second")) {
    changes.rateLimitPerSecond = effectiveRateLimit(values.rateLimitPerSecond, current.provider);
    violations.push(...checkRateLimit(changes.rateLimitPerSecond, "account.rate_limit_per_second"));
  }
  if (fields.has("status")) {
    if (values.status === undefined) violations.push({ field: "account.status", description: "must be ACTIVE, DEGRADED or DISABLED" });
    else changes.status = values.status;
  }
  if (fields.has("credentials")) {
    const given = Object.fromEntries(Object.entries(values.credentials).filter(([, v]) => v !== undefined && v !== ""));
    if (Object.keys(given).length > 0) {
      changes.credentials = given;
      const merged = { ...(await deps.accounts.getCredentials(tenantId, input.id)), ...given };
      violations.push(...checkCredentials(current.provider, merged, "account.credentials"));
    }
  }
  if (violations.length > 0) throw DomainError.invalid(violations);

  const updated = await deps.accounts.update(tenantId, input.id, changes);
  if (updated === null) throw DomainError.notFound("account", input.id);
  return updated;
}
