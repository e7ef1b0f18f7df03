import { DomainError } from "../../domain/errors.js";
import type { AccountQueueStats } from "../../domain/outbound/index.js";
import type { OutboundStore } from "../../ports/outbound-store.js";

/** Send-queue counters per account of the tenant, or of one account (NotFound when it is not the tenant's). */
export async function getQueueStats(
  deps: { outbound: OutboundStore; now: () => Date },
  tenantId: string,
  accountId: string | undefined,
): Promise<AccountQueueStats[]> {
  const stats = await deps.outbound.queueStats(tenantId, accountId, deps.now());
  if (accountId !== undefined && stats.length === 0) throw DomainError.notFound("account", accountId);
  return stats;
}
