/**
 * The InboundStore port over one PostgreSQL transaction: routing through
 * control.accounts, the tenant's contacts/conversations/messages (reached
 * through SET LOCAL search_path, one tenant at a time), pending statuses,
 * provider updates, and the outbox — all committed together.
 */
import { createHash } from "node:crypto";

import { and, asc, eq, isNull, sql } from "drizzle-orm";

import type { DomainEvent } from "../../../domain/events.js";
import type { Provider } from "../../../domain/account.js";
import type { ContactProfile, ManagementChange, MessagingChange, StatusUpdate } from "../../../domain/inbound.js";
import { waIdToE164 } from "../../../domain/inbound.js";
import type { AccountRef, ContactSnapshot, ConversationSnapshot, OutboundMessageSnapshot } from "../../../domain/inbound-events.js";
import type { MessageStatus } from "../../../domain/message-status.js";
import type { InboundStore, NewInboundMessage, StatusChange, TenantInboundStore } from "../../../ports/inbound-store.js";
import type { Database } from "../db/database.js";
import { hot, preparedRows } from "../db/prepared-query.js";
import { accountFromRow, contactFromRow, conversationFromRow, displayTextOf, inboundContent, statusUpdateFromJson } from "../stores/inbound-rows.js";
import type { ReactionScope } from "../../../ports/reaction-scope.js";
import { PostgresReactionScope } from "../stores/reaction-scope.js";
import {
  CONTACT_RETURNED,
  contactRowFromReturned,
  conversationReturned,
  conversationRowFromReturned,
  type ContactReturned,
  type ConversationReturned,
} from "../db/returned-rows.js";
import { appendEvents } from "../outbox/outbox.js";
import { numberKey, TransactionBatch } from "./transaction-batch.js";
import { WAMID_LOCK_CLASS } from "./wamid-locks.js";

export { TransactionBatch };
import { voidOtpsOfFailedMessages } from "../stores/otp-failures.js";
import { accounts, webhookUnroutable } from "../schema/control.js";
import { contacts, conversations, messages, pendingStatuses, providerUpdates } from "../schema/tenant.js";
import { setTenantSearchPath, tenantSchemaName } from "../db/tenant-scope.js";
import { findOrOpenConversation } from "../stores/open-conversation.js";
import { findOrLinkContacts, relinkContact } from "../stores/contact-linking.js";
import type { ContactIdentity } from "../../../domain/contact-identity.js";


/** The columns of an AccountRef (inbound-rows.ts accountFromRow). */
export const accountRefColumns = {
  id: accounts.id,
  tenantId: accounts.tenantId,
  provider: accounts.provider,
  phoneNumberId: accounts.phoneNumberId,
  wabaId: accounts.wabaId,
  businessId: accounts.businessId,
  displayPhoneNumber: accounts.displayPhoneNumber,
};

export interface InboundStoreOptions {
  /** The inbox row being processed (unroutable parts point back to it). */
  inboxId: string;
  newId: () => string;
  /**
   * Shared by every delivery of one transaction when the worker applies
   * several at once: routing answers, the tenant the search_path points at,
   * and the events, written to the outbox by `flush` before the commit.
   * Without it each call goes to the database at once.
   */
  batch?: TransactionBatch;
  now?: () => Date;
}

export class PostgresInboundStore implements InboundStore {
  readonly #tx: Database;
  readonly #options: InboundStoreOptions;

  /** `tx` must be a transaction: inTenant changes its search_path for the rest of it. */
  constructor(tx: Database, options: InboundStoreOptions) {
    this.#tx = tx;
    this.#options = options;
  }

  accountByPhoneNumberId(provider: Provider, phoneNumberId: string): Promise<AccountRef | undefined> {
    const batch = this.#options.batch;
    if (!batch) return this.#accountByPhoneNumberId(provider, phoneNumberId);
    const key = numberKey(provider, phoneNumberId);
    let found = batch.accountsByNumber.get(key);
    if (!found) batch.accountsByNumber.set(key, (found = this.#accountByPhoneNumberId(provider, phoneNumberId)));
    return found;
  }

  async #accountByPhoneNumberId(provider: Provider, phoneNumberId: string): Promise<AccountRef | undefined> {
    const [row] = await this.#tx
      .select(accountRefColumns)
      .from(accounts)
      .where(and(eq(accounts.provider, provider), eq(accounts.phoneNumberId, phoneNumberId), isNull(accounts.deleteTime)))
      .limit(1);
    return row && accountFromRow(row);
  }

  accountsByWabaId(provider: Provider, wabaId: string): Promise<AccountRef[]> {
    const batch = this.#options.batch;
    if (!batch) return this.#accountsByWabaId(provider, wabaId);
    const key = `${provider}\u0000${wabaId}`;
    let found = batch.accountsByWaba.get(key);
    if (!found) batch.accountsByWaba.set(key, (found = this.#accountsByWabaId(provider, wabaId)));
    return found;
  }

  async #accountsByWabaId(provider: Provider, wabaId: string): Promise<AccountRef[]> {
    const rows = await this.#tx
      .select(accountRefColumns)
      .from(accounts)
      .where(and(eq(accounts.provider, provider), eq(accounts.wabaId, wabaId), isNull(accounts.deleteTime)))
      .orderBy(asc(accounts.createTime), asc(accounts.id));
    return rows.map(accountFromRow);
  }

  async recordUnroutable(change: MessagingChange | ManagementChange): Promise<void> {
    await this.#tx.insert(webhookUnroutable).values({
      id: this.#options.newId(),
      inboxId: this.#options.inboxId,
      provider: change.provider,
      field: change.kind === "messaging" ? "messages" : change.field,
      phoneNumberId: change.phoneNumberId ?? "",
      wabaId: change.wabaId,
      messageCount: change.kind === "messaging" ? change.messages.length : 0,
      statusCount: change.kind === "messaging" ? change.statuses.length : 0,
      payload: change.raw ?? null,
    });
  }

  async inTenant<T>(tenantId: string, work: (tenant: TenantInboundStore) => Promise<T>): Promise<T> {
    const schema = tenantSchemaName(tenantId);
    const batch = this.#options.batch;
    if (batch?.schema !== schema) {
      await setTenantSearchPath(this.#tx, schema);
      if (batch) batch.schema = schema;
    }
    return work(
      new PostgresTenantInboundStore(this.#tx, this.#options.newId, batch, {
        tenantId,
        now: this.#options.now ?? (() => new Date()),
      }),
    );
  }
}

/** One tenant's tables; the transaction's search_path points at its schema. */
export class PostgresTenantInboundStore implements TenantInboundStore {
  readonly #tx: Database;
  readonly #newId: () => string;
  readonly #batch: TransactionBatch | undefined;
  readonly #tenant: { tenantId: string; now: () => Date } | undefined;

  /** With a `batch`, events wait in it for its `flush`; without, they are written at once. */
  constructor(
    tx: Database,
    newId: () => string,
    batch?: TransactionBatch,
    tenant?: { tenantId: string; now: () => Date },
  ) {
    this.#tx = tx;
    this.#newId = newId;
    this.#batch = batch;
    this.#tenant = tenant;
  }

  async messageIdByWamid(wamid: string): Promise<string | undefined> {
    const [row] = await this.#tx.select({ id: messages.id }).from(messages).where(eq(messages.wamid, wamid)).limit(1);
    return row?.id;
  }

  async upsertContact(profile: ContactProfile, seenAt: Date): Promise<{ contact: ContactSnapshot; created: boolean }> {
    const [upserted] = await this.upsertContacts([{ profile, seenAt }]);
    if (!upserted) throw new Error("contact upsert returned no row");
    return upserted;
  }

  /** Find-or-link by wa id and BSUID (contact-linking.ts); the wa-id upsert below is its common case. */
  upsertContacts(inputs: readonly { profile: ContactProfile; seenAt: Date }[]): Promise<{ contact: ContactSnapshot; created: boolean }[]> {
    return findOrLinkContacts(this.#tx, inputs, this.#newId, (byWaId) => this.#upsertByWaId(byWaId));
  }

  async relinkContact(contactId: string, to: ContactIdentity, at: Date): Promise<ContactSnapshot> {
    return relinkContact(this.#tx, contactId, to, at);
  }

  async #upsertByWaId(inputs: readonly { profile: ContactProfile; seenAt: Date }[]): Promise<{ contact: ContactSnapshot; created: boolean }[]> {
    if (inputs.length === 0) return [];
    // In wa id order, so two transactions lock the same contacts in the same order (no deadlock between them).
    const sorted = [...inputs].sort((a, b) => compare(a.profile.waId, b.profile.waId));
    const column = <T>(pick: (input: { profile: ContactProfile; seenAt: Date }) => T) => sorted.map(pick);
    // One statement text whatever the number of contacts (array parameters
    // expanded by unnest): prepared once per connection, so each call is one
    // round trip, never a Parse/Describe first. Times come back as epoch
    // milliseconds, read alike by both drivers.
    const rows = await preparedRows<ContactReturned & { inserted: boolean }>(
      this.#tx,
      hot`insert into contacts as contacts (id, wa_id, phone_e164, profile_name, bsuid, parent_bsuid, username, identity_key_hash, first_seen_time, last_seen_time)
        select id, wa_id, phone_e164, profile_name, bsuid, parent_bsuid, username, identity_key_hash, seen::timestamptz, seen::timestamptz
          from unnest(${column(() => this.#newId())}::uuid[], ${column((i) => i.profile.waId)}::text[], ${column((i) => waIdToE164(i.profile.waId) || null)}::text[],
            ${column((i) => i.profile.profileName ?? null)}::text[], ${column((i) => i.profile.userId ?? null)}::text[], ${column((i) => i.profile.parentUserId ?? null)}::text[],
            ${column((i) => i.profile.username ?? null)}::text[], ${column((i) => i.profile.identityKeyHash ?? null)}::text[], ${column((i) => i.seenAt.toISOString())}::text[])
            with ordinality as input (id, wa_id, phone_e164, profile_name, bsuid, parent_bsuid, username, identity_key_hash, seen, ord)
         order by ord
        on conflict (wa_id) do update set
          -- The profile name of the latest message wins; an older message
          -- processed late only fills a name that is missing.
          profile_name = case when excluded.last_seen_time >= contacts.last_seen_time
            then coalesce(excluded.profile_name, contacts.profile_name)
            else coalesce(contacts.profile_name, excluded.profile_name) end,
          phone_e164 = coalesce(contacts.phone_e164, excluded.phone_e164),
          bsuid = coalesce(excluded.bsuid, contacts.bsuid),
          parent_bsuid = coalesce(excluded.parent_bsuid, contacts.parent_bsuid),
          username = coalesce(excluded.username, contacts.username),
          identity_key_hash = coalesce(excluded.identity_key_hash, contacts.identity_key_hash),
          first_seen_time = least(contacts.first_seen_time, excluded.first_seen_time),
          last_seen_time = greatest(contacts.last_seen_time, excluded.last_seen_time),
          update_time = now()
        -- xmax is 0 only on a row version this statement inserted: the one way
        -- to tell an insert from a conflict-update in a single round trip.
        returning ${CONTACT_RETURNED}, (xmax = 0) as inserted`,
    );
    // RETURNING follows no particular order: matched back by wa id (distinct per call).
    const byWaId = new Map(rows.map((row) => [row.wa_id, { contact: contactFromRow(contactRowFromReturned(row)), created: row.inserted }]));
    return inputs.map(({ profile }) => {
      const upserted = byWaId.get(profile.waId);
      if (!upserted) throw new Error(`contact upsert returned no row for ${profile.waId}`);
      return upserted;
    });
  }

  async findOrOpenConversations(
    pairs: readonly { accountId: string; contactId: string }[],
    at: Date,
  ): Promise<{ conversation: ConversationSnapshot; opened: boolean }[]> {
    if (pairs.length === 0) return [];
    const key = (accountId: string, contactId: string) => `${accountId}\u0000${contactId}`;
    const found = new Map<string, { conversation: ConversationSnapshot; opened: boolean }>();
    const keep = (rows: OpenedConversationReturned[]) => {
      for (const row of rows) found.set(key(row.account_id, row.contact_id), { conversation: conversationFromRow(conversationRowFromReturned(row)), opened: row.opened });
    };
    // In contact order: the same lock order in every transaction.
    const sorted = [...pairs].sort((a, b) => compare(a.contactId, b.contactId));
    // Found or opened in ONE statement (one fixed text, so one round trip):
    // the open conversations of the pairs, and an insert of the others. An
    // insert that loses to a concurrent transaction's (the one-open index)
    // returns nothing; those are read again below, after it committed.
    keep(
      await preparedRows<OpenedConversationReturned>(
        this.#tx,
        hot`with wanted as (
              select * from unnest(${sorted.map(() => this.#newId())}::uuid[], ${sorted.map((p) => p.accountId)}::uuid[],
                ${sorted.map((p) => p.contactId)}::uuid[]) with ordinality as w (id, account_id, contact_id, ord)),
            found as (
              -- Locked: a concurrent close (inactivity job, UpdateConversation) either commits first
              -- (the row is re-checked, no longer open, and a new conversation opens) or waits for us.
              select c.* from conversations c join wanted w on c.account_id = w.account_id and c.contact_id = w.contact_id
               where c.status <> 'closed'
               order by w.ord
                 for update of c),
            opened as (
              insert into conversations (id, account_id, contact_id, status, source, create_time, update_time)
              select w.id, w.account_id, w.contact_id, 'active', 'inbound', ${at.toISOString()}::timestamptz, ${at.toISOString()}::timestamptz
                from wanted w
               where not exists (select 1 from found f where f.account_id = w.account_id and f.contact_id = w.contact_id)
               order by w.ord
              on conflict (account_id, contact_id) where status <> 'closed' do nothing
              returning *)
            select false as opened, ${CONVERSATION_RETURNED} from found
            union all
            select true as opened, ${CONVERSATION_RETURNED} from opened`,
      ),
    );
    const lost = sorted.filter((p) => !found.has(key(p.accountId, p.contactId)));
    if (lost.length > 0) {
      // Concurrent transactions opened these first (we waited for their commits).
      keep(
        await preparedRows<OpenedConversationReturned>(
          this.#tx,
          hot`select false as opened, ${CONVERSATION_RETURNED} from conversations
               where (account_id, contact_id) in (select * from unnest(${lost.map((p) => p.accountId)}::uuid[], ${lost.map((p) => p.contactId)}::uuid[]))
                 and status <> 'closed'
               order by id
                 for update`,
        ),
      );
    }
    return pairs.map((p) => {
      const result = found.get(key(p.accountId, p.contactId));
      if (!result) throw new Error(`no open conversation for contact ${p.contactId} after a conflicting insert`);
      return result;
    });
  }

  async findOrOpenConversation(accountId: string, contactId: string, at: Date): Promise<{ conversation: ConversationSnapshot; opened: boolean }> {
    return findOrOpenConversation(this.#tx, { accountId, contactId, at, source: "inbound", newId: this.#newId });
  }

  async insertInboundMessage(input: NewInboundMessage): Promise<boolean> {
    const inserted = await this.#tx
      .insert(messages)
      .values({
        id: input.id,
        accountId: input.accountId,
        conversationId: input.conversationId,
        contactId: input.contactId,
        direction: "inbound",
        type: input.message.type,
        wamid: input.message.wamid,
        status: "received",
        content: inboundContent(input.message),
        raw: input.message.raw ?? null,
      })
      .onConflictDoNothing({ target: messages.wamid })
      .returning({ id: messages.id });
    return inserted.length > 0;
  }

  async countInboundMessage(conversationId: string, windowFrom: Date | undefined): Promise<ConversationSnapshot> {
    const [row] = await this.#tx
      .update(conversations)
      .set({
        messageCount: sql`${conversations.messageCount} + 1`,
        inboundMessageCount: sql`${conversations.inboundMessageCount} + 1`,
        // Messages can be processed out of order: the window only moves forward.
        ...(windowFrom ? { lastInboundTime: sql`greatest(${conversations.lastInboundTime}, ${windowFrom.toISOString()}::timestamptz)` } : {}),
        updateTime: sql`now()`,
      })
      .where(eq(conversations.id, conversationId))
      .returning();
    if (!row) throw new Error(`conversation ${conversationId} vanished`);
    return conversationFromRow(row);
  }

  async messageIdsByWamids(wamids: readonly string[]): Promise<Map<string, string>> {
    if (wamids.length === 0) return new Map();
    const rows = await preparedRows<{ id: string; wamid: string }>(
      this.#tx,
      hot`select id, wamid from messages where wamid = any(${[...wamids]}::text[])`,
    );
    return new Map(rows.map((row) => [row.wamid, row.id] as const));
  }

  async insertInboundMessages(input: readonly NewInboundMessage[]): Promise<Set<string>> {
    if (input.length === 0) return new Set();
    // In wamid order: the same lock order in every transaction. One fixed
    // statement text (arrays expanded by unnest) naming only the columns set.
    const sorted = [...input].sort((a, b) => compare(a.message.wamid, b.message.wamid));
    const column = <T>(pick: (one: NewInboundMessage) => T) => sorted.map(pick);
    const inserted = await preparedRows<{ id: string }>(
      this.#tx,
      hot`insert into messages (id, account_id, conversation_id, contact_id, direction, type, wamid, status, content, raw)
        select id, account_id, conversation_id, contact_id, 'inbound', type, wamid, 'received', content, raw
          from unnest(${column((one) => one.id)}::uuid[], ${column((one) => one.accountId)}::uuid[], ${column((one) => one.conversationId)}::uuid[],
            ${column((one) => one.contactId)}::uuid[], ${column((one) => one.message.type)}::text[], ${column((one) => one.message.wamid)}::text[],
            ${column((one) => JSON.stringify(inboundContent(one.message)))}::jsonb[], ${column((one) => (one.message.raw == null ? null : JSON.stringify(one.message.raw)))}::jsonb[])
            with ordinality as input (id, account_id, conversation_id, contact_id, type, wamid, content, raw, ord)
         order by ord
        on conflict (wamid) do nothing returning id`,
    );
    return new Set(inserted.map((row) => row.id));
  }

  async countInboundMessages(counts: readonly { conversationId: string; windowFrom: Date | undefined }[]): Promise<Map<string, ConversationSnapshot>> {
    if (counts.length === 0) return new Map();
    const sorted = [...counts].sort((a, b) => compare(a.conversationId, b.conversationId));
    // A conversation named n times counts n messages; the window only moves
    // forward (messages can be processed out of order; greatest ignores null).
    const rows = await preparedRows<OpenedConversationReturned>(
      this.#tx,
      hot`update conversations as c
             set message_count = c.message_count + counted.n,
                 inbound_message_count = c.inbound_message_count + counted.n,
                 last_inbound_time = greatest(c.last_inbound_time, counted.window_from),
                 update_time = now()
            from (select id, count(*)::int as n, max(window_from::timestamptz) as window_from
                    from unnest(${sorted.map((c) => c.conversationId)}::uuid[], ${sorted.map((c) => c.windowFrom?.toISOString() ?? null)}::text[]) as input (id, window_from)
                   group by id) as counted
           where c.id = counted.id
           returning false as opened, ${CONVERSATION_RETURNED_OF_C}`,
    );
    const byId = new Map(rows.map((row) => [row.id, conversationFromRow(conversationRowFromReturned(row))]));
    for (const c of counts) if (!byId.has(c.conversationId)) throw new Error(`conversation ${c.conversationId} vanished`);
    return byId;
  }

  async lockWamid(wamid: string): Promise<void> {
    await preparedRows(this.#tx, hot`select pg_advisory_xact_lock(${WAMID_LOCK_CLASS}::integer, hashtext(${wamid}))`);
  }

  async lockMessageByWamid(wamid: string): Promise<OutboundMessageSnapshot | undefined> {
    const [row] = await this.#tx
      .select({
        id: messages.id,
        wamid: messages.wamid,
        accountId: messages.accountId,
        conversationId: messages.conversationId,
        contactId: messages.contactId,
        direction: messages.direction,
        type: messages.type,
        status: messages.status,
        content: messages.content,
        metadata: messages.metadata,
        attemptCount: messages.attemptCount,
        idempotencyKey: messages.idempotencyKey,
        waId: contacts.waId,
        phone: contacts.phoneE164,
        bsuid: contacts.bsuid,
      })
      .from(messages)
      .innerJoin(contacts, eq(contacts.id, messages.contactId))
      .where(eq(messages.wamid, wamid))
      .limit(1)
      .for("update", { of: messages });
    if (!row) return undefined;
    return {
      id: row.id,
      wamid: row.wamid ?? wamid,
      accountId: row.accountId,
      conversationId: row.conversationId ?? undefined,
      contactId: row.contactId,
      // A contact known only by BSUID is named by it.
      contactPhone: row.phone ?? (waIdToE164(row.waId ?? "") || (row.bsuid ?? "")),
      direction: row.direction,
      type: row.type,
      status: row.status as MessageStatus,
      displayText: displayTextOf(row.content),
      metadata: { ...row.metadata },
      attemptCount: row.attemptCount,
      idempotencyKey: row.idempotencyKey ?? undefined,
    };
  }

  async updateMessageStatus(messageId: string, change: StatusChange): Promise<void> {
    const at = sql`${change.at.toISOString()}::timestamptz`;
    const timeColumn = {
      sent: { sentTime: sql`coalesce(${messages.sentTime}, ${at})` },
      delivered: { deliveredTime: sql`coalesce(${messages.deliveredTime}, ${at})` },
      read: { readTime: sql`coalesce(${messages.readTime}, ${at})` },
      failed: { failedTime: sql`coalesce(${messages.failedTime}, ${at})` },
    }[change.reported];
    await this.#tx
      .update(messages)
      .set({
        ...timeColumn,
        ...(change.status ? { status: change.status, updateTime: sql`now()` } : {}),
        ...(change.error
          ? { errorCode: String(change.error.code), errorTitle: change.error.title, errorDetails: change.error.details || null }
          : {}),
        // Meta reports pricing with `sent` and with one of delivered/read: keep the latest report.
        ...(change.pricing ? { pricing: { ...change.pricing } } : {}),
      })
      .where(eq(messages.id, messageId));
    if (change.status === "failed") await voidOtpsOfFailedMessages(this.#tx, [messageId]);
  }

  async keepPendingStatus(update: StatusUpdate): Promise<boolean> {
    const { raw, ...normalised } = update;
    const inserted = await this.#tx
      .insert(pendingStatuses)
      .values({
        id: this.#newId(),
        wamid: update.wamid,
        providerStatus: update.providerStatus,
        statusTime: update.timestamp,
        update: normalised,
        raw: raw ?? null,
      })
      .onConflictDoNothing({ target: [pendingStatuses.wamid, pendingStatuses.providerStatus] })
      .returning({ id: pendingStatuses.id });
    return inserted.length > 0;
  }

  async takePendingStatuses(wamid: string): Promise<StatusUpdate[]> {
    const rows = await this.#tx.delete(pendingStatuses).where(eq(pendingStatuses.wamid, wamid)).returning();
    // Arrival order: received_time is the storing transaction's start, and
    // UUIDv7 ids order the rows one transaction stored.
    rows.sort((a, b) => a.receivedTime.getTime() - b.receivedTime.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return rows.map((row) => statusUpdateFromJson(row.update, row.raw));
  }

  async recordProviderUpdate(update: ManagementChange, accountId: string | undefined): Promise<boolean> {
    const inserted = await this.#tx
      .insert(providerUpdates)
      .values({
        id: this.#newId(),
        accountId: accountId ?? null,
        provider: update.provider,
        wabaId: update.wabaId,
        phoneNumberId: update.phoneNumberId ?? "",
        field: update.field,
        event: update.event ?? null,
        details: update.details,
        payload: update.raw ?? null,
        occurredTime: update.time ?? null,
        dedupeKey: dedupeKey(update),
      })
      .onConflictDoNothing({ target: providerUpdates.dedupeKey })
      .returning({ id: providerUpdates.id });
    return inserted.length > 0;
  }

  async appendEvents(events: readonly DomainEvent[]): Promise<void> {
    if (this.#batch) this.#batch.add(events);
    else await appendEvents(this.#tx, events);
  }

  reactionScope(): ReactionScope {
    const tenant = this.#tenant;
    if (!tenant) throw new Error("reactions run only inside inbound processing (inTenant)");
    return new PostgresReactionScope(this.#tx, tenant.tenantId, { newId: this.#newId, now: tenant.now }, async (events) => {
      if (this.#batch) this.#batch.add(events);
      else await appendEvents(this.#tx, events);
    });
  }
}



function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A conversation row of the find-or-open statements, and whether this statement opened it. */
type OpenedConversationReturned = ConversationReturned & { opened: boolean };

const CONVERSATION_RETURNED = conversationReturned("");
const CONVERSATION_RETURNED_OF_C = conversationReturned("c.");

/** The same update delivered again (Meta retries) hashes the same. */
function dedupeKey(update: ManagementChange): string {
  const identity = [update.provider, update.field, update.wabaId, update.phoneNumberId ?? "", update.time?.toISOString() ?? "", update.raw];
  return createHash("sha256").update(JSON.stringify(identity)).digest("hex");
}

