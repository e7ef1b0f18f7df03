import { DomainError } from "../../domain/errors.js";
import { DEFAULT_PRIORITY } from "../../domain/priority.js";
import type { StoredMessage } from "../../domain/outbound/index.js";
import type { OutboundStore } from "../../ports/outbound-store.js";
import { assertWindowOpen } from "./send-message.js";

/**
 * Queues a failed outbound message again, as a new send: status queued,
 * attempts from zero, the last error and provider id cleared, a new send
 * job — all in one transaction. Only failed messages can be retried; a
 * free-form message is refused when the 24-hour window has closed since.
 */
export async function retryMessage(deps: { outbound: OutboundStore; now: () => Date }, tenantId: string, messageId: string): Promise<StoredMessage> {
  return deps.outbound.inTransaction(tenantId, async (tx) => {
    const message = await tx.lockMessage(messageId);
    if (!message) throw DomainError.notFound("message", messageId);
    if (message.direction !== "outbound" || message.status !== "failed") {
      throw new DomainError(
        "failed_precondition",
        "MESSAGE_NOT_FAILED",
        `message ${messageId} is ${message.direction === "inbound" ? "inbound" : message.status}; only failed outbound messages can be retried`,
      );
    }
    const account = await tx.account(message.accountId);
    if (!account || account.status === "disabled") {
      throw new DomainError("failed_precondition", "ACCOUNT_UNAVAILABLE", `the account of message ${messageId} is deleted or disabled`);
    }
    if (message.type !== "template") await assertWindowOpen(tx, message.accountId, message.contact.id, deps.now());
    await tx.requeueMessage(messageId);
    await tx.enqueueSend({ messageId, accountId: message.accountId, tenantId, priority: message.priority ?? DEFAULT_PRIORITY });
    const requeued = await tx.message(messageId);
    if (!requeued) throw DomainError.notFound("message", messageId);
    return requeued;
  });
}
