/**
 * The InboundStore port over one PostgreSQL transaction: routing through
 * control.accounts, the tenant's contacts/conversations/messages (reached
 * through SET LOCAL search_path, one tenant at a time), pending statuses,
 * provider updates, and the outbox — all committed together.
 */
import { createHash } from "node:crypto";

import { and, asc, eq, getTableColumns, inArray, isNull, ne, sql } from "drizzle-orm";
import { v7 as uuidv7 } from "uuid";

import type { Provider } from "../../domain/account.js";
import type { ContactProfile, ManagementChange, MessagingChange, StatusUpdate } from "../../domain/inbound.js";
import { waIdToE164 } from "../../domain/inbound.js";
import type { AccountRef, ContactSnapshot, ConversationSnapshot, InboundEvent, OutboundMessageSnapshot } from "../../domain/inbound-events.js";
import type { MessageStatus } from "../../domain/message-status.js";
import { applyPendingStatuses as applyPendingStatusesUseCase } from "../../app/apply-message-status.js";
import type { InboundStore, NewInboundMessage, StatusChange, StoredInboundMessage, TenantInboundStore } from "../../ports/inbound-store.js";
import { toOutboxEvent } from "../events/inbound-events-pb.js";
import { queryRows, type Database } from "./database.js";
import { accountFromRow, conversationFromRow, displayTextOf, inboundContent, statusUpdateFromJson } from "./inbound-rows.js";
import type { InboundReactionContext, InboundReactions } from "./inbound-reactions.js";
import { appendToOutbox, type OutboxEvent } from "./outbox.js";
import { accounts, webhookUnroutable } from "./schema/control.js";
import { contacts, conversations, messages, pendingStatuses, providerUpdates } from "./schema/tenant.js";
import { setTenantSearchPath, tenantSchemaName } from "./tenant-scope.js";
import { findOrOpenConversation } from "./open-conversation.js";

/**
 * Advisory lock class for status work on one wamid ("wa" + 4; the migrator
 * uses 1 and 2, the leader lock 3 — they must differ, or a wamid whose hash
 * equals a leader role would contend with the relay's leadership).
 */
export const WAMID_LOCK_CLASS = 0x7761_0004;

const ACCOUNT_REF_COLUMNS = {
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
  /** What follows newly stored inbound messages (opt-out keywords, typed-back codes), in order. */
  reactions?: InboundReactions;
  now?: () => Date;
}

/**
 * What the deliveries applied in ONE transaction share, to save round trips:
 * each repeated account lookup, each `SET LOCAL search_path` to the tenant
 * already in scope, and one outbox INSERT for all their events instead of
 * one per change. Bound to that transaction: a rolled-back transaction takes
 * its batch with it (nothing here outlives it).
 */
export class TransactionBatch {
  readonly accountsByNumber = new Map<string, Promise<AccountRef | undefined>>();
  readonly accountsByWaba = new Map<string, Promise<AccountRef[]>>();
  /** The tenant schema the transaction's search_path points at. */
  schema: string | undefined;
  readonly #events: OutboxEvent[] = [];

  /** Keeps events for the outbox, in order. */
  add(events: readonly InboundEvent[]): void {
    for (const event of events) this.#events.push(toOutboxEvent(event));
  }

  /** Keeps events already in outbox form, in order. */
  addOutbox(events: readonly OutboxEvent[]): void {
    this.#events.push(...events);
  }

  /** Writes the kept events to the outbox in one INSERT; call it last in the transaction. Returns how many. */
  async flush(tx: Database): Promise<number> {
    const events = this.#events.splice(0);
    await appendToOutbox(tx, events);
    return events.length;
  }
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
    const key = `${provider}\u0000${phoneNumberId}`;
    let found = batch.accountsByNumber.get(key);
    if (!found) batch.accountsByNumber.set(key, (found = this.#accountByPhoneNumberId(provider, phoneNumberId)));
    return found;
  }

  async #accountByPhoneNumberId(provider: Provider, phoneNumberId: string): Promise<AccountRef | undefined> {
    const [row] = await this.#tx
      .select(ACCOUNT_REF_COLUMNS)
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
      .select(ACCOUNT_REF_COLUMNS)
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
        reactions: this.#options.reactions ?? NO_REACTIONS,
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
  readonly #reacting: { tenantId: string; reactions: InboundReactions; now: () => Date } | undefined;

  /** With a `batch`, events wait in it for its `flush`; without, they are written at once. */
  constructor(
    tx: Database,
    newId: () => string,
    batch?: TransactionBatch,
    reacting?: { tenantId: string; reactions: InboundReactions; now: () => Date },
  ) {
    this.#tx = tx;
    this.#newId = newId;
    this.#batch = batch;
    this.#reacting = reacting;
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

  async upsertContacts(inputs: readonly { profile: ContactProfile; seenAt: Date }[]): Promise<{ contact: ContactSnapshot; created: boolean }[]> {
    if (inputs.length === 0) return [];
    // Raw SQL naming only the columns set (the builder would spell out all
    // ~30 for every row); times come back as epoch milliseconds, read alike
    // by both drivers.
    const values = sql.join(
      // In wa id order, so two transactions lock the same contacts in the same order (no deadlock between them).
      [...inputs].sort((a, b) => compare(a.profile.waId, b.profile.waId)).map(({ profile, seenAt }) => {
        const at = seenAt.toISOString();
        return sql`(${this.#newId()}::uuid, ${profile.waId}, ${waIdToE164(profile.waId) || null}, ${profile.profileName ?? null},
          ${profile.userId ?? null}, ${profile.parentUserId ?? null}, ${profile.username ?? null}, ${profile.identityKeyHash ?? null},
          ${at}::timestamptz, ${at}::timestamptz)`;
      }),
      sql`, `,
    );
    const rows = await queryRows<ContactReturned>(
      this.#tx,
      sql`insert into contacts as contacts (id, wa_id, phone_e164, profile_name, bsuid, parent_bsuid, username, identity_key_hash, first_seen_time, last_seen_time)
        values ${values}
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
        returning id, wa_id, phone_e164, profile_name, bsuid, parent_bsuid, username, opted_out,
          (extract(epoch from first_seen_time) * 1000)::float8 as first_seen_ms,
          (extract(epoch from last_seen_time) * 1000)::float8 as last_seen_ms,
          (xmax = 0) as inserted`,
    );
    // RETURNING follows no particular order: matched back by wa id (distinct per call).
    const byWaId = new Map(rows.map((row) => [row.wa_id, { contact: contactFromReturned(row), created: row.inserted }]));
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
    const findOpen = async (wanted: readonly { accountId: string; contactId: string }[]) => {
      const tuples = sql.join(
        wanted.map((p) => sql`(${p.accountId}::uuid, ${p.contactId}::uuid)`),
        sql`, `,
      );
      const rows = await this.#tx
        .select()
        .from(conversations)
        .where(and(sql`(${conversations.accountId}, ${conversations.contactId}) in (${tuples})`, ne(conversations.status, "closed")));
      for (const row of rows) found.set(key(row.accountId, row.contactId), { conversation: conversationFromRow(row), opened: false });
    };
    await findOpen(pairs);
    const missing = pairs.filter((p) => !found.has(key(p.accountId, p.contactId)));
    if (missing.length > 0) {
      const inserted = await this.#tx
        .insert(conversations)
        .values([...missing].sort((a, b) => compare(a.contactId, b.contactId)).map((p) => ({ id: this.#newId(), accountId: p.accountId, contactId: p.contactId, status: "active" as const, source: "inbound", createTime: at, updateTime: at })))
        .onConflictDoNothing({ target: [conversations.accountId, conversations.contactId], where: sql`status <> 'closed'` })
        .returning();
      for (const row of inserted) found.set(key(row.accountId, row.contactId), { conversation: conversationFromRow(row), opened: true });
      // Concurrent transactions opened the others first (we waited for their commits).
      const lost = missing.filter((p) => !found.has(key(p.accountId, p.contactId)));
      if (lost.length > 0) await findOpen(lost);
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
    const rows = await this.#tx
      .select({ id: messages.id, wamid: messages.wamid })
      .from(messages)
      .where(inArray(messages.wamid, [...wamids]));
    return new Map(rows.flatMap((row) => (row.wamid === null ? [] : [[row.wamid, row.id] as const])));
  }

  async insertInboundMessages(input: readonly NewInboundMessage[]): Promise<Set<string>> {
    if (input.length === 0) return new Set();
    // Raw SQL naming only the columns set: drizzle's builder would spell out
    // every one of the table's ~30 columns for every row (as `default`).
    const rows = sql.join(
      // In wamid order: the same lock order in every transaction.
      [...input].sort((a, b) => compare(a.message.wamid, b.message.wamid)).map(
        (one) =>
          sql`(${one.id}::uuid, ${one.accountId}::uuid, ${one.conversationId}::uuid, ${one.contactId}::uuid, 'inbound', ${one.message.type},
            ${one.message.wamid}, 'received', ${JSON.stringify(inboundContent(one.message))}::jsonb, ${one.message.raw == null ? null : JSON.stringify(one.message.raw)}::jsonb)`,
      ),
      sql`, `,
    );
    const inserted = await queryRows<{ id: string }>(
      this.#tx,
      sql`insert into messages (id, account_id, conversation_id, contact_id, direction, type, wamid, status, content, raw)
        values ${rows} on conflict (wamid) do nothing returning id`,
    );
    return new Set(inserted.map((row) => row.id));
  }

  async countInboundMessages(counts: readonly { conversationId: string; windowFrom: Date | undefined }[]): Promise<Map<string, ConversationSnapshot>> {
    if (counts.length === 0) return new Map();
    const values = sql.join(
      [...counts].sort((a, b) => compare(a.conversationId, b.conversationId)).map((c) => sql`(${c.conversationId}::uuid, ${c.windowFrom?.toISOString() ?? null}::timestamptz)`),
      sql`, `,
    );
    const rows = await this.#tx
      .update(conversations)
      .set({
        messageCount: sql`${conversations.messageCount} + 1`,
        inboundMessageCount: sql`${conversations.inboundMessageCount} + 1`,
        // Messages can be processed out of order: the window only moves forward (greatest ignores null).
        lastInboundTime: sql`greatest(${conversations.lastInboundTime}, counted.window_from)`,
        updateTime: sql`now()`,
      })
      .from(sql`(values ${values}) as counted (id, window_from)`)
      .where(sql`${conversations.id} = counted.id`)
      .returning(getTableColumns(conversations));
    const byId = new Map(rows.map((row) => [row.id, conversationFromRow(row)]));
    for (const c of counts) if (!byId.has(c.conversationId)) throw new Error(`conversation ${c.conversationId} vanished`);
    return byId;
  }

  async lockWamid(wamid: string): Promise<void> {
    await this.#tx.execute(sql`select pg_advisory_xact_lock(${WAMID_LOCK_CLASS}::integer, hashtext(${wamid}))`);
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
        waId: contacts.waId,
        phone: contacts.phoneE164,
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
      contactPhone: row.phone ?? waIdToE164(row.waId),
      direction: row.direction,
      type: row.type,
      status: row.status as MessageStatus,
      displayText: displayTextOf(row.content),
      metadata: { ...row.metadata },
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

  async appendEvents(events: readonly InboundEvent[]): Promise<void> {
    if (this.#batch) this.#batch.add(events);
    else await appendToOutbox(this.#tx, events.map(toOutboxEvent));
  }

  async afterInboundStored(stored: readonly StoredInboundMessage[]): Promise<void> {
    const reacting = this.#reacting;
    if (!reacting || stored.length === 0) return;
    for (const react of reacting.reactions.messages) await react(this.#reactionContext(reacting), stored);
  }

  async afterProviderUpdate(update: ManagementChange, accountId: string | undefined): Promise<void> {
    const reacting = this.#reacting;
    if (!reacting) return;
    for (const react of reacting.reactions.providerUpdates) await react(this.#reactionContext(reacting), update, accountId);
  }

  #reactionContext(reacting: { tenantId: string; now: () => Date }): InboundReactionContext {
    return {
      tx: this.#tx,
      tenantId: reacting.tenantId,
      newId: this.#newId,
      now: reacting.now,
      emit: async (events) => {
        if (this.#batch) this.#batch.addOutbox(events);
        else await appendToOutbox(this.#tx, events);
      },
    };
  }
}

const NO_REACTIONS: InboundReactions = { messages: [], providerUpdates: [] };

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What the contact upsert returns (snake_case: raw SQL). */
interface ContactReturned extends Record<string, unknown> {
  id: string;
  wa_id: string;
  phone_e164: string | null;
  profile_name: string | null;
  bsuid: string | null;
  parent_bsuid: string | null;
  username: string | null;
  opted_out: boolean;
  first_seen_ms: number;
  last_seen_ms: number;
  inserted: boolean;
}

/** The snapshot `contactFromRow` would give for the same row. */
function contactFromReturned(row: ContactReturned): ContactSnapshot {
  return {
    id: row.id,
    waId: row.wa_id,
    phone: row.phone_e164 ?? waIdToE164(row.wa_id),
    profileName: row.profile_name ?? "",
    userId: row.bsuid ?? "",
    parentUserId: row.parent_bsuid ?? "",
    username: row.username ?? "",
    optedOut: row.opted_out,
    firstSeenTime: new Date(Number(row.first_seen_ms)),
    lastSeenTime: new Date(Number(row.last_seen_ms)),
  };
}

/** The same update delivered again (Meta retries) hashes the same. */
function dedupeKey(update: ManagementChange): string {
  const identity = [update.provider, update.field, update.wabaId, update.phoneNumberId ?? "", update.time?.toISOString() ?? "", update.raw];
  return createHash("sha256").update(JSON.stringify(identity)).digest("hex");
}

/**
 * Takes the status lock (see `lockWamid`) of every wamid at once, in one
 * global order (by lock key). The inbox worker calls it first in a batch
 * transaction that will apply statuses: per-status locking would take them
 * in delivery order, and two replicas' batches holding the same wamids in
 * opposite orders deadlock each other (or a third transaction queued behind
 * them, such as the sending work's). Locks already held are taken again at
 * no cost (advisory transaction locks are reentrant).
 */
export async function lockWamidsInOrder(tx: Database, wamids: readonly string[]): Promise<void> {
  if (wamids.length === 0) return;
  const list = sql.join(
    [...new Set(wamids)].map((w) => sql`${w}`),
    sql`, `,
  );
  await tx.execute(sql`with keys as materialized (
      select distinct hashtext(w) as k from unnest(array[${list}]::text[]) as w order by k
    )
    select count(pg_advisory_xact_lock(${WAMID_LOCK_CLASS}::integer, k)) from keys`);
}

/**
 * For the sending work: applies the statuses that arrived before `wamid` was
 * known. Call it in the tenant transaction (withTenant) that records the
 * wamid, after recording it; the same advisory lock as the webhook
 * processing makes a status arriving meanwhile either see the message or be
 * seen here. Writes the events to the outbox in that transaction and returns
 * how many — notify the outbox wake-up after commit when it is not zero.
 */
export async function applyPendingStatuses(
  tx: Database,
  wamid: string,
  deps: { newId?: () => string; now?: () => Date } = {},
): Promise<number> {
  const newId = deps.newId ?? (() => uuidv7());
  const tenant = new PostgresTenantInboundStore(tx, newId);
  const accountFor = async (accountId: string) => {
    const [row] = await tx.select(ACCOUNT_REF_COLUMNS).from(accounts).where(eq(accounts.id, accountId)).limit(1);
    return row && accountFromRow(row);
  };
  const events = await applyPendingStatusesUseCase(tenant, wamid, accountFor, { newId, now: deps.now ?? (() => new Date()) });
  return events.length;
}
