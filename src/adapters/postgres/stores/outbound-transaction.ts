/**
 * The send path's writes inside one tenant transaction (search_path set to
 * the tenant's schema by withTenant): contact, conversation, message, the
 * send job in control.jobs and the events in the outbox, committed together.
 *
 * Every statement of SendMessage's transaction is a hot prepared statement
 * (prepared-query.ts: one round trip each on postgres.js), and the message
 * insert returns the stored message (with its contact and account number),
 * so reading it back right after costs no statement.
 */
import { eq, sql } from "drizzle-orm";

import type { InboundEvent } from "../../../domain/inbound-events.js";
import { recipientAddress, type ConversationForSend, type Recipient, type RecipientContact, type SendingAccount, type StoredMessage } from "../../../domain/outbound/index.js";
import { PRIORITY_RANK } from "../../../domain/priority.js";
import type { MessageReference, NewOutboundMessage, OutboundTransaction } from "../../../ports/outbound-store.js";
import type { Database } from "../db/database.js";
import { contactFromRow, conversationFromRow } from "./inbound-rows.js";
import { selectStoredMessages, STORED_MESSAGE_RETURNED, storedMessageFromRow, storedMessageRowFromReturned, UUID } from "./outbound-rows.js";
import {
  accountFromReturned,
  ACCOUNT_RETURNED,
  CONTACT_RETURNED,
  contactRowFromReturned,
  conversationReturned,
  conversationRowFromReturned,
  type AccountReturned,
  type ContactReturned,
  type ConversationReturned,
} from "../db/returned-rows.js";
import { appendEvents } from "../outbox/outbox.js";
import { hot, preparedRows } from "../db/prepared-query.js";
import { accounts, jobs } from "../schema/control.js";
import { messages, sendIdempotencyKeys } from "../schema/tenant.js";
import { findOrOpenConversation } from "./open-conversation.js";
import { lockIdentities } from "./contact-linking.js";

export const SEND_MESSAGE_JOB = "send_message";

/** What a committed transaction wrote that background workers should hear about. */
export interface WrittenWork {
  events: number;
  jobs: number;
}

export class PostgresOutboundTransaction implements OutboundTransaction {
  readonly #tx: Database;
  readonly #tenantId: string;
  /**
   * False when the tenant has no schema yet: tenant tables do not exist, so
   * nothing is found. Either known when constructed, or asked (once) when a
   * read first needs it — an account of the tenant found on the way answers
   * it for free.
   */
  #tenantExists: boolean | (() => Promise<boolean>);
  readonly #newId: () => string;
  /**
   * The message this transaction just inserted, as its INSERT returned it:
   * `message()` of that id answers from here. Dropped by any write of this
   * class that could change it (or its contact) afterwards.
   */
  #inserted: StoredMessage | undefined;
  readonly written: WrittenWork = { events: 0, jobs: 0 };

  constructor(tx: Database, tenantId: string, tenantExists: boolean | (() => Promise<boolean>), newId: () => string) {
    this.#tx = tx;
    this.#tenantId = tenantId;
    this.#tenantExists = tenantExists;
    this.#newId = newId;
  }

  async #knownTenant(): Promise<boolean> {
    if (typeof this.#tenantExists === "function") this.#tenantExists = await this.#tenantExists();
    return this.#tenantExists;
  }

  async account(accountId: string): Promise<SendingAccount | undefined> {
    if (!UUID.test(accountId)) return undefined;
    const [row] = await preparedRows<AccountReturned & { status: string }>(
      this.#tx,
      hot`select ${ACCOUNT_RETURNED}, status from ${accounts}
           where id = ${accountId}::uuid and tenant_id = ${this.#tenantId} and delete_time is null
           limit 1`,
    );
    if (!row) return undefined;
    // A tenant with an account has its schema.
    this.#tenantExists = true;
    return { ...accountFromReturned(row), status: row.status as SendingAccount["status"] };
  }

  async claimIdempotencyKey(key: string, messageId: string, now: Date, expireTime: Date): Promise<string> {
    this.#inserted = undefined;
    const [claimed] = await preparedRows<{ message_id: string }>(
      this.#tx,
      hot`insert into ${sendIdempotencyKeys} as k (key, message_id, create_time, expire_time)
          values (${key}, ${messageId}::uuid, ${now.toISOString()}::timestamptz, ${expireTime.toISOString()}::timestamptz)
          on conflict (key) do update set message_id = excluded.message_id, create_time = excluded.create_time, expire_time = excluded.expire_time
          -- Only an expired key is taken over; a live one stays with its first message.
           where k.expire_time <= excluded.create_time
          returning message_id`,
    );
    if (claimed) return claimed.message_id;
    // The key is live and was committed by another transaction (we waited for it on the primary key).
    const [first] = await preparedRows<{ message_id: string }>(this.#tx, hot`select message_id from ${sendIdempotencyKeys} where key = ${key}`);
    if (!first) throw new Error(`idempotency key conflict without a row for key ${JSON.stringify(key)}`);
    return first.message_id;
  }

  async upsertRecipient(recipient: Recipient, at: Date): Promise<RecipientContact> {
    this.#inserted = undefined;
    // The identifier locks of inbound linking (contact-linking.ts): a send creating a contact
    // and a delivery linking the same identifier never both insert.
    await lockIdentities(this.#tx, [{ waId: recipient.waId || undefined, bsuid: recipient.bsuid }]);
    if (recipient.bsuid !== undefined) return this.#upsertBsuidRecipient(recipient.bsuid, at);
    const [row] = await preparedRows<ContactReturned & { inserted: boolean }>(
      this.#tx,
      hot`insert into contacts as contacts (id, wa_id, phone_e164, first_seen_time, last_seen_time)
          values (${this.#newId()}::uuid, ${recipient.waId}, ${recipient.e164}, ${at.toISOString()}::timestamptz, ${at.toISOString()}::timestamptz)
          -- Nothing of a known contact changes on a send (last_seen is about the contact writing);
          -- the no-op update returns the row and locks it like the inbound path does.
          on conflict (wa_id) do update set phone_e164 = coalesce(contacts.phone_e164, excluded.phone_e164)
          returning ${CONTACT_RETURNED}, (xmax = 0) as inserted`,
    );
    if (!row) throw new Error("contact upsert returned no row");
    return { contact: contactFromRow(contactRowFromReturned(row)), created: row.inserted };
  }

  /** A user known only by BSUID (a username adopter): found by it, or created with it alone. */
  async #upsertBsuidRecipient(bsuid: string, at: Date): Promise<RecipientContact> {
    const [row] = await preparedRows<ContactReturned & { inserted: boolean }>(
      this.#tx,
      hot`insert into contacts as contacts (id, bsuid, first_seen_time, last_seen_time)
          values (${this.#newId()}::uuid, ${bsuid}, ${at.toISOString()}::timestamptz, ${at.toISOString()}::timestamptz)
          on conflict (bsuid) where bsuid is not null do update set bsuid = excluded.bsuid
          returning ${CONTACT_RETURNED}, (xmax = 0) as inserted`,
    );
    if (!row) throw new Error("contact upsert returned no row");
    return { contact: contactFromRow(contactRowFromReturned(row)), created: row.inserted };
  }

  async lastInboundTime(accountId: string, contactId: string): Promise<Date | undefined> {
    // Every conversation counts: the window belongs to the number and the user, not to one thread.
    const [row] = await preparedRows<{ last_ms: number | string | null }>(
      this.#tx,
      hot`select (extract(epoch from max(last_inbound_time)) * 1000)::float8 as last_ms from conversations
           where account_id = ${accountId}::uuid and contact_id = ${contactId}::uuid`,
    );
    return row?.last_ms == null ? undefined : new Date(Number(row.last_ms));
  }

  async findMessage(reference: string): Promise<MessageReference | undefined> {
    if (!(await this.#knownTenant())) return undefined;
    const [row] = UUID.test(reference)
      ? await preparedRows<{ id: string; wamid: string | null }>(
          this.#tx,
          hot`select id, wamid from messages where id = ${reference}::uuid or wamid = ${reference} limit 1`,
        )
      : await preparedRows<{ id: string; wamid: string | null }>(this.#tx, hot`select id, wamid from messages where wamid = ${reference} limit 1`);
    return row && { id: row.id, wamid: row.wamid ?? undefined };
  }

  async findOrOpenConversation(accountId: string, contactId: string, at: Date): Promise<ConversationForSend> {
    this.#inserted = undefined;
    return findOrOpenConversation(this.#tx, { accountId, contactId, at, source: "manual", newId: this.#newId });
  }

  async insertQueuedMessage(message: NewOutboundMessage): Promise<void> {
    // One round trip: the message, its send job (the row enqueueSend writes), and what `message()`
    // would read back (selectStoredMessages' join).
    const jobPriority = PRIORITY_RANK[message.priority];
    const [row] = await preparedRows(
      this.#tx,
      hot`with job as (
            insert into ${jobs} (id, tenant_id, kind, payload, priority)
            values (${this.#newId()}::uuid, ${this.#tenantId}::text, ${SEND_MESSAGE_JOB}::text,
                    ${JSON.stringify({ messageId: message.id, accountId: message.accountId })}::text::jsonb, ${jobPriority}::integer)),
          m as (
            insert into messages (id, account_id, conversation_id, contact_id, direction, type, status, content, metadata,
                                  idempotency_key, priority, recipient, reply_to_message_id)
            values (${message.id}::uuid, ${message.accountId}::uuid, ${message.conversationId}::uuid, ${message.contactId}::uuid, 'outbound',
                    ${message.type}::text, 'queued', ${JSON.stringify(message.content)}::text::jsonb, ${JSON.stringify(message.metadata)}::text::jsonb,
                    ${message.idempotencyKey ?? null}::text, ${message.priority}::text, ${recipientAddress(message.recipient)}::text, ${message.replyToMessageId ?? null}::text)
            returning *)
          select ${STORED_MESSAGE_RETURNED}, a.display_phone_number as account_phone
            from m join contacts c on c.id = m.contact_id
            left join ${accounts} a on a.id = m.account_id`,
    );
    if (!row) throw new Error(`message ${message.id} insert returned no row`);
    this.#inserted = storedMessageFromRow(storedMessageRowFromReturned(row));
    this.written.jobs++;
  }

  async countOutboundMessage(conversationId: string, at: Date) {
    const [row] = await preparedRows<ConversationReturned>(
      this.#tx,
      hot`update conversations
             set message_count = message_count + 1,
                 outbound_message_count = outbound_message_count + 1,
                 last_outbound_time = greatest(last_outbound_time, ${at.toISOString()}::timestamptz),
                 update_time = now()
           where id = ${conversationId}::uuid
          returning ${CONVERSATION_RETURNED}`,
    );
    if (!row) throw new Error(`conversation ${conversationId} vanished`);
    return conversationFromRow(conversationRowFromReturned(row));
  }

  async enqueueSend(job: { messageId: string; accountId: string; tenantId: string; priority: keyof typeof PRIORITY_RANK }): Promise<void> {
    await preparedRows(
      this.#tx,
      hot`insert into ${jobs} (id, tenant_id, kind, payload, priority)
          values (${this.#newId()}::uuid, ${job.tenantId}::text, ${SEND_MESSAGE_JOB}::text,
                  ${JSON.stringify({ messageId: job.messageId, accountId: job.accountId })}::text::jsonb, ${PRIORITY_RANK[job.priority]}::integer)`,
    );
    this.written.jobs++;
  }

  async lockMessage(messageId: string): Promise<StoredMessage | undefined> {
    this.#inserted = undefined;
    if (!(await this.#knownTenant()) || !UUID.test(messageId)) return undefined;
    const [row] = await selectStoredMessages(this.#tx).where(eq(messages.id, messageId)).limit(1).for("update", { of: messages });
    return row && storedMessageFromRow(row);
  }

  async requeueMessage(messageId: string): Promise<void> {
    this.#inserted = undefined;
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
    if (this.#inserted?.id === messageId) return this.#inserted;
    if (!(await this.#knownTenant()) || !UUID.test(messageId)) return undefined;
    const [row] = await preparedRows(
      this.#tx,
      hot`select ${STORED_MESSAGE_RETURNED}, a.display_phone_number as account_phone
            from messages m join contacts c on c.id = m.contact_id
            left join ${accounts} a on a.id = m.account_id
           where m.id = ${messageId}::uuid
           limit 1`,
    );
    return row && storedMessageFromRow(storedMessageRowFromReturned(row));
  }

  async appendEvents(events: readonly InboundEvent[]): Promise<void> {
    await appendEvents(this.#tx, events);
    this.written.events += events.length;
  }
}

const CONVERSATION_RETURNED = conversationReturned();


