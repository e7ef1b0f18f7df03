/** Rows of messages (joined with their contact and account) → StoredMessage. */
import { eq } from "drizzle-orm";

import type { StoredMessage } from "../../domain/outbound/index.js";
import type { MessageStatus } from "../../domain/message-status.js";
import type { SendPriority } from "../../domain/priority.js";
import type { Database } from "./database.js";
import { contactFromRow } from "./inbound-rows.js";
import { accounts } from "./schema/control.js";
import { contacts, messages } from "./schema/tenant.js";

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const PRIORITIES: readonly string[] = ["otp", "transactional", "marketing"] satisfies SendPriority[];

/** messages ⋈ contacts ⟕ control.accounts: everything the Message resource shows. Run inside withTenant. */
export function selectStoredMessages(tx: Database) {
  return tx
    .select({ message: messages, contact: contacts, accountPhone: accounts.displayPhoneNumber })
    .from(messages)
    .innerJoin(contacts, eq(contacts.id, messages.contactId))
    .leftJoin(accounts, eq(accounts.id, messages.accountId));
}

export type StoredMessageRow = {
  message: typeof messages.$inferSelect;
  contact: typeof contacts.$inferSelect;
  accountPhone: string | null;
};

export function storedMessageFromRow({ message: m, contact, accountPhone }: StoredMessageRow): StoredMessage {
  return {
    id: m.id,
    accountId: m.accountId,
    accountPhone: accountPhone ?? "",
    conversationId: m.conversationId ?? undefined,
    contact: contactFromRow(contact),
    direction: m.direction,
    type: m.type,
    status: m.status as MessageStatus,
    wamid: m.wamid ?? undefined,
    content: m.content,
    replyToMessageId: m.replyToMessageId ?? undefined,
    priority: m.priority !== null && PRIORITIES.includes(m.priority) ? (m.priority as SendPriority) : undefined,
    idempotencyKey: m.idempotencyKey ?? undefined,
    metadata: { ...m.metadata },
    error: m.errorCode !== null || m.errorTitle !== null ? { code: m.errorCode ?? "", title: m.errorTitle ?? "", details: m.errorDetails ?? "" } : undefined,
    attemptCount: m.attemptCount,
    nextAttemptTime: m.nextAttemptTime ?? undefined,
    pricing: m.pricing ?? undefined,
    createTime: m.createTime,
    updateTime: m.updateTime,
    sentTime: m.sentTime ?? undefined,
    deliveredTime: m.deliveredTime ?? undefined,
    readTime: m.readTime ?? undefined,
    failedTime: m.failedTime ?? undefined,
  };
}
