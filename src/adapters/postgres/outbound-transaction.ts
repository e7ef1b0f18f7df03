/**
 * The send path's writes inside one tenant transaction (search_path set to
 * the tenant's schema by withTenant): contact, conversation, message, the
 * send job in control.jobs and the events in the outbox, committed together.
 */
import { and, eq, getTableColumns, isNull, max, or, sql } from "drizzle-orm";

import type { InboundEvent } from "../../domain/inbound-events.js";
import type { ConversationForSend, Recipient, RecipientContact, SendingAccount, StoredMessage } from "../../domain/outbound/index.js";
import { PRIORITY_RANK } from "../../domain/priority.js";
import type { MessageReference, NewOutboundMessage, OutboundTransaction } from "../../ports/outbound-store.js";
import { toOutboxEvent } from "../events/inbound-events-pb.js";
import type { Database } from "./database.js";
import { accountFromRow, contactFromRow, conversationFromRow } from "./inbound-rows.js";
import { selectStoredMessages, storedMessageFromRow, UUID } from "./outbound-rows.js";
import { appendToOutbox } from "./outbox.js";
import { accounts, jobs } from "./schema/control.js";
import { contacts, conversations, messages, sendIdempotencyKeys } from "./schema/tenant.js";
import { findOrOpenConversation } from "./open-conversation.js";

export const SEND_MESSAGE_JOB = "send_message";

/** What a committed transaction wrote that background workers should hear about. */
export interface WrittenWork {
  events: number;
  jobs: number;
}

export class PostgresOutboundTransaction implements OutboundTransaction {
  readonly #tx: Database;
  readonly #tenantId: string;
  /** False when the tenant has no schema yet: tenant tables do not exist, so nothing is found. */
  readonly #tenantExists: boolean;
  readonly #newId: () => string;
  readonly written: WrittenWork = { events: 0, jobs: 0 };

  constructor(tx: Database, tenantId: string, tenantExists: boolean, newId: () => string) {
    this.#tx = tx;
    this.#tenantId = tenantId;
    this.#tenantExists = tenantExists;
    this.#newId = newId;
  }

  async account(accountId: string): Promise<SendingAccount | undefined> {
    if (!UUID.test(accountId)) return undefined;
    const [row] = await this.#tx
      .select()
      .from(accounts)
      .where(and(eq(accounts.id, accountId), eq(accounts.tenantId, this.#tenantId), isNull(accounts.deleteTime)))
      .limit(1);
    return row && { ...accountFromRow(row), status: row.status as SendingAccount["status"] };
  }

  async claimIdempotencyKey(key: string, messageId: string, now: Date, expireTime: Date): Promise<string> {
    const [claimed] = await this.#tx
      .insert(sendIdempotencyKeys)
      .values({ key, messageId, createTime: now, expireTime })
      .onConflictDoUpdate({
        target: sendIdempotencyKeys.key,
        set: { messageId, createTime: now, expireTime },
        // Only an expired key is taken over; a live one stays with its first message.
        setWhere: sql`${sendIdempotencyKeys.expireTime} <= ${now.toISOString()}::timestamptz`,
      })
      .returning({ messageId: sendIdempotencyKeys.messageId });
    if (claimed) return claimed.messageId;
    // The key is live and was committed by another transaction (we waited for it on the primary key).
    const [first] = await this.#tx.select({ messageId: sendIdempotencyKeys.messageId }).from(sendIdempotencyKeys).where(eq(sendIdempotencyKeys.key, key));
    if (!first) throw new Error(`idempotency key conflict without a row for key ${JSON.stringify(key)}`);
    return first.messageId;
  }

  async upsertRecipient(recipient: Recipient, at: Date): Promise<RecipientContact> {
    const [row] = await this.#tx
      .insert(contacts)
      .values({ id: this.#newId(), waId: recipient.waId, phoneE164: recipient.e164, firstSeenTime: at, lastSeenTime: at })
      .onConflictDoUpdate({
        target: contacts.waId,
        // Nothing of a known contact changes on a send (last_seen is about the contact writing);
        // the no-op update returns the row and locks it like the inbound path does.
        set: { phoneE164: sql`coalesce(${contacts.phoneE164}, excluded.phone_e164)` },
      })
      .returning({ ...getTableColumns(contacts), inserted: sql<boolean>`(xmax = 0)` });
    if (!row) throw new Error("contact upsert returned no row");
    const { inserted, ...contact } = row;
    return { contact: contactFromRow(contact), created: inserted };
  }

  async lastInboundTime(accountId: string, contactId: string): Promise<Date | undefined> {
    // Every conversation counts: the window belongs to the number and the user, not to one thread.
    const [row] = await this.#tx
      .select({ last: max(conversations.lastInboundTime) })
      .from(conversations)
      .where(and(eq(conversations.accountId, accountId), eq(conversations.contactId, contactId)));
    return row?.last ?? undefined;
  }

  async findMessage(reference: string): Promise<MessageReference | undefined> {
    if (!this.#tenantExists) return undefined;
    const [row] = await this.#tx
      .select({ id: messages.id, wamid: messages.wamid })
      .from(messages)
      .where(UUID.test(reference) ? or(eq(messages.id, reference), eq(messages.wamid, reference)) : eq(messages.wamid, reference))
      .limit(1);
    return row && { id: row.id, wamid: row.wamid ?? undefined };
  }

  async findOrOpenConversation(accountId: string, contactId: string, at: Date): Promise<ConversationForSend> {
    return findOrOpenConversation(this.#tx, { accountId, contactId, at, source: "manual", newId: this.#newId });
  }

  async insertOutboundMessage(message: NewOutboundMessage): Promise<void> {
    await this.#tx.insert(messages).values({
      id: message.id,
      accountId: message.accountId,
      conversationId: message.conversationId,
      contactId: message.contactId,
      direction: "outbound",
      type: message.type,
      status: "queued",
      content: message.content,
      metadata: message.metadata,
      idempotencyKey: message.idempotencyKey ?? null,
      priority: message.priority,
      recipient: message.recipient.waId,
      replyToMessageId: message.replyToMessageId ?? null,
    });
  }

  async countOutboundMessage(conversationId: string, at: Date) {
    const [row] = await this.#tx
      .update(conversations)
      .set({
        messageCount: sql`${conversations.messageCount} + 1`,
        outboundMessageCount: sql`${conversations.outboundMessageCount} + 1`,
        lastOutboundTime: sql`greatest(${conversations.lastOutboundTime}, ${at.toISOString()}::timestamptz)`,
        updateTime: sql`now()`,
      })
      .where(eq(conversations.id, conversationId))
      .returning();
    if (!row) throw new Error(`conversation ${conversationId} vanished`);
    return conversationFromRow(row);
  }

  async enqueueSend(job: { messageId: string; accountId: string; tenantId: string; priority: keyof typeof PRIORITY_RANK }): Promise<void> {
    await this.#tx.insert(jobs).values({
      id: this.#newId(),
      tenantId: job.tenantId,
      kind: SEND_MESSAGE_JOB,
      payload: { messageId: job.messageId, accountId: job.accountId },
      priority: PRIORITY_RANK[job.priority],
    });
    this.written.jobs++;
  }

  async lockMessage(messageId: string): Promise<StoredMessage | undefined> {
    if (!this.#tenantExists || !UUID.test(messageId)) return undefined;
    const [row] = await selectStoredMessages(this.#tx).where(eq(messages.id, messageId)).limit(1).for("update", { of: messages });
    return row && storedMessageFromRow(row);
  }

  async requeueMessage(messageId: string): Promise<void> {
    await this.#tx
      .update(messages)
      .set({
        status: "queued",
        attemptCount: 0,
        nextAttemptTime: null,
        // The retry is a new send: a new provider id, new statuses, no old error.
        wamid: null,
        errorCode: null,
        errorTitle: null,
        errorDetails: null,
        sentTime: null,
        deliveredTime: null,
        readTime: null,
        failedTime: null,
        updateTime: sql`now()`,
      })
      .where(eq(messages.id, messageId));
  }

  async message(messageId: string): Promise<StoredMessage | undefined> {
    if (!this.#tenantExists || !UUID.test(messageId)) return undefined;
    const [row] = await selectStoredMessages(this.#tx).where(eq(messages.id, messageId)).limit(1);
    return row && storedMessageFromRow(row);
  }

  async appendEvents(events: readonly InboundEvent[]): Promise<void> {
    await appendToOutbox(this.#tx, events.map(toOutboxEvent));
    this.written.events += events.length;
  }
}
