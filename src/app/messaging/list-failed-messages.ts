import type { FailedMessagesPage, OutboundStore } from "../../ports/outbound-store.js";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

export interface ListFailedMessagesInput {
  pageSize: number;
  pageToken: string;
  accountId: string | undefined;
  minFailTime: Date | undefined;
}

/** Outbound messages that ended failed, newest failure first, one page at a time. */
export async function listFailedMessages(deps: { outbound: OutboundStore }, tenantId: string, input: ListFailedMessagesInput): Promise<FailedMessagesPage> {
  const pageSize = input.pageSize <= 0 ? DEFAULT_PAGE_SIZE : Math.min(input.pageSize, MAX_PAGE_SIZE);
  return deps.outbound.listFailedMessages(tenantId, { ...input, pageSize });
}
