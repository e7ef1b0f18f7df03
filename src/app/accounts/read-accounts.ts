import type { Account, AccountMetrics } from "../../domain/account.js";
import { DomainError } from "../../domain/errors.js";
import type { AccountPage, AccountRepository } from "../../ports/account-repository.js";

type Deps = { accounts: AccountRepository };

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

export async function getAccount(deps: Deps, tenantId: string, id: string): Promise<Account> {
  const account = await deps.accounts.get(tenantId, id);
  if (account === null) throw DomainError.notFound("account", id);
  return account;
}

export async function listAccounts(deps: Deps, tenantId: string, pageSize: number, pageToken: string): Promise<AccountPage> {
  const size = pageSize <= 0 ? DEFAULT_PAGE_SIZE : Math.min(pageSize, MAX_PAGE_SIZE);
  return deps.accounts.list(tenantId, size, pageToken);
}

/** Soft delete: the row stays for history (messages refer to it) but the account is gone from the API. */
export async function deleteAccount(deps: Deps, tenantId: string, id: string): Promise<void> {
  if (!(await deps.accounts.softDelete(tenantId, id))) throw DomainError.notFound("account", id);
}

export interface AccountMetricsReport extends AccountMetrics {
  accountId: string;
  from: Date;
  to: Date;
  /** delivered ÷ sent, 0 when nothing was sent. */
  deliveryRate: number;
  /** read ÷ sent. */
  readRate: number;
  /** failed ÷ (sent + failed). */
  failureRate: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Counts over [from, to); with no window given, the last 24 hours. */
export async function getAccountMetrics(
  deps: Deps & { now: () => Date },
  tenantId: string,
  id: string,
  window: { from: Date | undefined; to: Date | undefined },
): Promise<AccountMetricsReport> {
  await getAccount(deps, tenantId, id);
  const to = window.to ?? deps.now();
  const from = window.from ?? new Date(to.getTime() - DAY_MS);
  if (from.getTime() >= to.getTime()) {
    throw DomainError.invalid([{ field: "start_time", description: "must be before end_time" }]);
  }
  const counts = await deps.accounts.metrics(tenantId, id, from, to);
  const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
  return {
    ...counts,
    accountId: id,
    from,
    to,
    deliveryRate: ratio(counts.delivered, counts.sent),
    readRate: ratio(counts.read, counts.sent),
    failureRate: ratio(counts.failed, counts.sent + counts.failed),
  };
}
