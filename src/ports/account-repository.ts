import type { Account, AccountCredentials, AccountMetrics, AccountStatus, Provider } from "../domain/account.js";

export interface NewAccount {
  id: string;
  tenantId: string;
  provider: Provider;
  displayName: string;
  phoneNumberId: string;
  wabaId: string;
  displayPhoneNumber: string;
  businessId: string;
  rateLimitPerSecond: number;
  status: AccountStatus;
  credentials: AccountCredentials;
  metadata: Record<string, string>;
  /** Idempotency key of the create call; a second create with it returns the first account. */
  requestId?: string;
}

/** Fields an update may change; `credentials` entries replace the stored ones by name. */
export interface AccountChanges {
  displayName?: string;
  phoneNumberId?: string;
  wabaId?: string;
  displayPhoneNumber?: string;
  businessId?: string;
  rateLimitPerSecond?: number;
  status?: AccountStatus;
  credentials?: AccountCredentials;
  metadata?: Record<string, string>;
}

export interface AccountPage {
  accounts: Account[];
  /** Opaque cursor for the next page, empty when there is none. */
  nextPageToken: string;
}

/**
 * Accounts of one tenant. Every method is scoped by `tenantId`: an account of
 * another tenant is indistinguishable from one that does not exist.
 */
export interface AccountRepository {
  /**
   * Creates the account (and the tenant with its schema, the first time).
   * With a `requestId` seen before for this tenant, returns that account
   * instead. Throws DomainError already_exists on a duplicate phone number id.
   */
  create(account: NewAccount): Promise<Account>;
  /** Returns null when missing, deleted, or of another tenant. */
  get(tenantId: string, id: string): Promise<Account | null>;
  update(tenantId: string, id: string, changes: AccountChanges): Promise<Account | null>;
  list(tenantId: string, pageSize: number, pageToken: string): Promise<AccountPage>;
  /** Soft delete; returns false when there was nothing to delete. */
  softDelete(tenantId: string, id: string): Promise<boolean>;
  /** Decrypted credentials, for providers and webhook checks — never for API responses. */
  getCredentials(tenantId: string, id: string): Promise<AccountCredentials | null>;
  /** Message counts of the account in [from, to), read from the tenant's schema. */
  metrics(tenantId: string, accountId: string, from: Date, to: Date): Promise<AccountMetrics>;
}
