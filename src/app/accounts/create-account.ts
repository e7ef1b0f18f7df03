import type { Account, AccountCredentials, AccountStatus, Provider } from "../../domain/account.js";
import {
  checkCredentials,
  checkPhoneNumberId,
  checkRateLimit,
  effectiveRateLimit,
  normaliseDisplayPhoneNumber,
} from "../../domain/account-rules.js";
import { DomainError } from "../../domain/errors.js";
import type { AccountRepository } from "../../ports/account-repository.js";

export interface CreateAccountInput {
  provider: Provider;
  displayName: string;
  phoneNumberId: string;
  wabaId: string;
  displayPhoneNumber: string;
  businessId: string;
  /** 0 → the default rate. */
  rateLimitPerSecond: number;
  /** Undefined → active. */
  status: AccountStatus | undefined;
  credentials: AccountCredentials;
  metadata: Record<string, string>;
  /** Caller's idempotency key; empty → none. */
  requestId: string;
}

export interface CreateAccountDeps {
  accounts: AccountRepository;
  newId: () => string;
}

/** Connects a WhatsApp number to the tenant; the tenant's schema is created with its first account. */
export async function createAccount(deps: CreateAccountDeps, tenantId: string, input: CreateAccountInput): Promise<Account> {
  const rate = effectiveRateLimit(input.rateLimitPerSecond, input.provider);
  const phone = normaliseDisplayPhoneNumber(input.displayPhoneNumber, "account.display_phone_number");
  const violations = [
    ...checkPhoneNumberId(input.provider, input.phoneNumberId, "account.phone_number_id"),
    ...checkRateLimit(rate, "account.rate_limit_per_second"),
    ...phone.violations,
    ...checkCredentials(input.provider, input.credentials, "account.credentials"),
  ];
  if (violations.length > 0) throw DomainError.invalid(violations);

  return deps.accounts.create({
    id: deps.newId(),
    tenantId,
    provider: input.provider,
    displayName: input.displayName,
    phoneNumberId: input.phoneNumberId,
    wabaId: input.wabaId,
    // A Twilio account's id is its number: shown as such unless the caller says otherwise.
    displayPhoneNumber: phone.value === "" && input.provider === "twilio" ? input.phoneNumberId : phone.value,
    businessId: input.businessId,
    rateLimitPerSecond: rate,
    status: input.status ?? "active",
    credentials: input.credentials,
    metadata: input.metadata,
    requestId: input.requestId === "" ? undefined : input.requestId,
  });
}
