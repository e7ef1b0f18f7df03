/**
 * AccountRepository in memory: accounts of every tenant, a request id repeat
 * returning the first account, one account per provider phone number id
 * (across tenants, as the unique index has it), soft delete, and
 * credentials kept apart from what reads return.
 */
import type { Account, AccountCredentials, AccountMetrics, CredentialName } from "../../../src/domain/account.js";
import { CREDENTIAL_NAMES } from "../../../src/domain/account.js";
import { DomainError } from "../../../src/domain/errors.js";
import type { AccountChanges, AccountPage, AccountRepository, NewAccount } from "../../../src/ports/account-repository.js";

interface Row {
  account: Account;
  credentials: AccountCredentials;
  requestId: string | undefined;
}

export class InMemoryAccountRepository implements AccountRepository {
  readonly rows = new Map<string, Row>();

  async create(input: NewAccount): Promise<Account> {
    const repeat = [...this.rows.values()].find((r) => input.requestId !== undefined && r.requestId === input.requestId && r.account.tenantId === input.tenantId);
    if (repeat) return repeat.account;
    if ([...this.rows.values()].some((r) => r.account.provider === input.provider && r.account.phoneNumberId === input.phoneNumberId)) {
      throw new DomainError("already_exists", "PHONE_NUMBER_ALREADY_CONNECTED", `phone number id ${input.phoneNumberId} is already connected to an account`);
    }
    const now = new Date();
    const { credentials, requestId, ...fields } = input;
    const account: Account = { ...fields, credentialsSet: setNames(credentials), createTime: now, updateTime: now, deleteTime: null };
    this.rows.set(input.id, { account, credentials: { ...credentials }, requestId });
    return account;
  }

  async get(tenantId: string, id: string): Promise<Account | null> {
    return this.#live(tenantId, id)?.account ?? null;
  }

  async update(tenantId: string, id: string, changes: AccountChanges): Promise<Account | null> {
    const row = this.#live(tenantId, id);
    if (!row) return null;
    const { credentials, ...fields } = changes;
    if (credentials !== undefined) row.credentials = { ...row.credentials, ...credentials };
    row.account = { ...row.account, ...fields, credentialsSet: setNames(row.credentials), updateTime: new Date() };
    return row.account;
  }

  async list(tenantId: string, pageSize: number): Promise<AccountPage> {
    const accounts = [...this.rows.values()].filter((r) => r.account.tenantId === tenantId && r.account.deleteTime === null).map((r) => r.account);
    return { accounts: accounts.slice(0, pageSize), nextPageToken: "" };
  }

  async softDelete(tenantId: string, id: string): Promise<boolean> {
    const row = this.#live(tenantId, id);
    if (!row) return false;
    row.account = { ...row.account, deleteTime: new Date() };
    return true;
  }

  async getCredentials(tenantId: string, id: string): Promise<AccountCredentials | null> {
    return this.#live(tenantId, id)?.credentials ?? null;
  }

  async metrics(): Promise<AccountMetrics> {
    return { sent: 0, delivered: 0, read: 0, failed: 0, received: 0 };
  }

  #live(tenantId: string, id: string): Row | undefined {
    const row = this.rows.get(id);
    return row && row.account.tenantId === tenantId && row.account.deleteTime === null ? row : undefined;
  }
}

function setNames(credentials: AccountCredentials): CredentialName[] {
  return CREDENTIAL_NAMES.filter((name) => (credentials[name] ?? "") !== "");
}
