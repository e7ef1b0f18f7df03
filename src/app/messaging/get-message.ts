import { DomainError } from "../../domain/errors.js";
import type { StoredMessage } from "../../domain/outbound/index.js";
import type { OutboundStore } from "../../ports/outbound-store.js";

/** One message of the tenant, inbound or outbound; another tenant's id is simply not found. */
export async function getMessage(deps: { outbound: OutboundStore }, tenantId: string, messageId: string): Promise<StoredMessage> {
  const message = await deps.outbound.getMessage(tenantId, messageId);
  if (!message) throw DomainError.notFound("message", messageId);
  return message;
}
