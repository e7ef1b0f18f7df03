/**
 * The ConversationStore port over PostgreSQL: conversation, message and
 * contact lists on immutable keyset keys (create_time, id), the tenant's
 * conversation settings, and the transactions of UpdateConversation and
 * StartConversation — each in its tenant's schema (withTenant). A tenant
 * without a schema (no account ever) has nothing.
 */
import { and, asc, desc, eq, gte, ilike, isNull, or, sql, type SQL } from "drizzle-orm";

import type { ConversationClosed, ConversationUpdatePlan } from "../../../domain/conversations/conversation-update.js";
import type { PageKey } from "../../../domain/conversations/page-token.js";
import { NO_STORED_SETTINGS, type SettingsChange, type StoredConversationSettings } from "../../../domain/conversations/settings.js";
import type { AccountRef, ContactSnapshot, ConversationSnapshot } from "../../../domain/inbound-events.js";
import type { ConversationForSend, StoredMessage } from "../../../domain/outbound/index.js";
import { SERVICE_WINDOW_MS } from "../../../domain/service-window.js";
import type {
  ContactFilter,
  ConversationFilter,
  ConversationOpening,
  ConversationRecord,
  ConversationStore,
  ConversationTransaction,
  Keyed,
  MessageQuery,
  StartConversationTransaction,
} from "../../../ports/conversation-store.js";
import type { Database, Transaction } from "../db/database.js";
import { accountFromRow, contactFromRow, conversationFromRow } from "./inbound-rows.js";
import { ensureTenant } from "../db/migrator.js";
import { findOrOpenConversation } from "./open-conversation.js";
import { PostgresOutboundTransaction, type WrittenWork } from "./outbound-transaction.js";
import { storedMessageFromRow, UUID } from "./outbound-rows.js";
import { appendEvents } from "../outbox/outbox.js";
import { accounts } from "../schema/control.js";
import { inCountingTransaction } from "../send/send-transaction.js";
import { contacts, conversations, messages, sendIdempotencyKeys, templates, tenantSettings } from "../schema/tenant.js";
import { tenantExists, withTenant } from "../db/tenant-scope.js";

export interface ConversationStoreOptions {
  newId: () => string;
  /** Tenant migrations folder (tests); the default otherwise. */
  tenantDir?: string | undefined;
  /** Called after a commit that wrote events (wakes the outbox relay). */
  onEventsCommitted?: () => void;
  /** Called after a commit that queued send jobs (wakes the sender). */
  onJobsCommitted?: () => void;
}

/**
 * StartConversation request ids live beside SendMessage idempotency keys
 * (send_idempotency_keys) under this prefix; the unit separator keeps them
 * apart from any key a caller would choose.
 */
const REQUEST_KEY_PREFIX = "start-conversation\u001f";

/** The contact's last message to the account, in any of their conversations (epoch ms). */
const windowFromMs = sql<number | null>`(select (extract(epoch from max(w.last_inbound_time)) * 1000)::float8 from conversations w
  where w.account_id = ${conversations.accountId} and w.contact_id = ${conversations.contactId})`;

const conversationColumns = {
  conversation: conversations,
  contact: contacts,
  windowFromMs,
  // Read back as text: microseconds matter to the cursor and a JS Date drops them.
  keyTime: sql<string>`${conversations.createTime}::text`,
};

type ConversationRow = {
  conversation: typeof conversations.$inferSelect;
  contact: typeof contacts.$inferSelect;
  windowFromMs: number | string | null;
  keyTime: string;
};

function recordFromRow(row: ConversationRow): ConversationRecord {
  return {
    conversation: conversationFromRow(row.conversation),
    contact: contactFromRow(row.contact),
    windowFrom: row.windowFromMs === null ? undefined : new Date(Number(row.windowFromMs)),
  };
}

function selectConversations(tx: Database) {
  return tx.select(conversationColumns).from(conversations).innerJoin(contacts, eq(contacts.id, conversations.contactId));
}

/** `(time, id) < key` (descending walk) or `> key` (ascending). */
function afterKey(time: SQL | typeof conversations.createTime, id: SQL | typeof conversations.id, key: PageKey, descending: boolean): SQL {
  return descending
    ? sql`(${time}, ${id}) < (${key.time}::timestamptz, ${key.id}::uuid)`
    : sql`(${time}, ${id}) > (${key.time}::timestamptz, ${key.id}::uuid)`;
}

export class PostgresConversationStore implements ConversationStore {
  readonly #db: Database;
  readonly #options: ConversationStoreOptions;

  constructor(db: Database, options: ConversationStoreOptions) {
    this.#db = db;
    this.#options = options;
  }

  async listConversations(
    tenantId: string,
    query: { filter: ConversationFilter; after: PageKey | undefined; limit: number; now: Date },
  ): Promise<Keyed<ConversationRecord>[]> {
    const { filter } = query;
    if (!(await tenantExists(this.#db, tenantId))) return [];
    if ((filter.accountId !== undefined && !UUID.test(filter.accountId)) || (filter.contactId !== undefined && !UUID.test(filter.contactId))) return [];
    const conditions: SQL[] = [];
    if (filter.accountId !== undefined) conditions.push(eq(conversations.accountId, filter.accountId));
    if (filter.status !== undefined) conditions.push(eq(conversations.status, filter.status));
    if (filter.contactWaId !== undefined) conditions.push(eq(contacts.waId, filter.contactWaId));
    if (filter.contactBsuid !== undefined) conditions.push(eq(contacts.bsuid, filter.contactBsuid));
    if (filter.contactUsername !== undefined) conditions.push(eq(contacts.username, filter.contactUsername));
    if (filter.contactId !== undefined) conditions.push(eq(conversations.contactId, filter.contactId));
    if (filter.minUpdateTime !== undefined) conditions.push(gte(conversations.updateTime, filter.minUpdateTime));
    if (filter.source !== undefined) conditions.push(eq(conversations.source, filter.source));
    if (filter.windowOpen !== undefined) {
      // Open while now < last inbound + 24 h, i.e. last inbound > now - 24 h.
      const openSince = new Date(query.now.getTime() - SERVICE_WINDOW_MS).getTime();
      conditions.push(filter.windowOpen ? sql`coalesce(${windowFromMs} > ${openSince}, false)` : sql`coalesce(${windowFromMs} <= ${openSince}, true)`);
    }
    if (query.after) conditions.push(afterKey(conversations.createTime, conversations.id, query.after, true));
    const rows = await withTenant(this.#db, tenantId, (tx) =>
      selectConversations(tx)
        .where(and(...conditions))
        .orderBy(desc(conversations.createTime), desc(conversations.id))
        .limit(query.limit),
    );
    return rows.map((row) => ({ item: recordFromRow(row), key: { time: row.keyTime, id: row.conversation.id } }));
  }

  async getConversation(tenantId: string, conversationId: string): Promise<ConversationRecord | undefined> {
    if (!UUID.test(conversationId) || !(await tenantExists(this.#db, tenantId))) return undefined;
    return withTenant(this.#db, tenantId, (tx) => conversationById(tx, conversationId));
  }

  async listMessages(tenantId: string, query: MessageQuery): Promise<Keyed<StoredMessage>[] | undefined> {
    if (!UUID.test(query.conversationId) || !(await tenantExists(this.#db, tenantId))) return undefined;
    const descending = query.order === "newest_first";
    return withTenant(this.#db, tenantId, async (tx) => {
      const [known] = await tx.select({ id: conversations.id }).from(conversations).where(eq(conversations.id, query.conversationId)).limit(1);
      if (!known) return undefined;
      const conditions: SQL[] = [eq(messages.conversationId, query.conversationId)];
      if (query.direction !== undefined) conditions.push(eq(messages.direction, query.direction));
      if (query.after) conditions.push(afterKey(sql`${messages.createTime}`, sql`${messages.id}`, query.after, descending));
      const order = descending ? [desc(messages.createTime), desc(messages.id)] : [asc(messages.createTime), asc(messages.id)];
      const rows = await tx
        .select({ message: messages, contact: contacts, accountPhone: accounts.displayPhoneNumber, keyTime: sql<string>`${messages.createTime}::text` })
        .from(messages)
        .innerJoin(contacts, eq(contacts.id, messages.contactId))
        .leftJoin(accounts, eq(accounts.id, messages.accountId))
        .where(and(...conditions))
        .orderBy(...order)
        .limit(query.limit);
      return rows.map((row) => ({ item: storedMessageFromRow(row), key: { time: row.keyTime, id: row.message.id } }));
    });
  }

  async getContact(tenantId: string, contactId: string): Promise<ContactSnapshot | undefined> {
    if (!UUID.test(contactId) || !(await tenantExists(this.#db, tenantId))) return undefined;
    const [row] = await withTenant(this.#db, tenantId, (tx) => tx.select().from(contacts).where(eq(contacts.id, contactId)).limit(1));
    return row && contactFromRow(row);
  }

  async listContacts(tenantId: string, query: { filter: ContactFilter; after: PageKey | undefined; limit: number }): Promise<Keyed<ContactSnapshot>[]> {
    const { filter } = query;
    if (!(await tenantExists(this.#db, tenantId))) return [];
    const conditions: SQL[] = [];
    if (filter.waId !== undefined) conditions.push(eq(contacts.waId, filter.waId));
    if (filter.bsuid !== undefined) conditions.push(eq(contacts.bsuid, filter.bsuid));
    if (filter.parentBsuid !== undefined) conditions.push(eq(contacts.parentBsuid, filter.parentBsuid));
    if (filter.username !== undefined) conditions.push(eq(contacts.username, filter.username));
    if (filter.profileName !== undefined) conditions.push(ilike(contacts.profileName, `%${escapeLike(filter.profileName)}%`));
    if (filter.optedOut !== undefined) conditions.push(eq(contacts.optedOut, filter.optedOut));
    if (filter.minLastSeenTime !== undefined) conditions.push(gte(contacts.lastSeenTime, filter.minLastSeenTime));
    if (query.after) conditions.push(afterKey(sql`${contacts.createTime}`, sql`${contacts.id}`, query.after, true));
    const rows = await withTenant(this.#db, tenantId, (tx) =>
      tx
        .select({ contact: contacts, keyTime: sql<string>`${contacts.createTime}::text` })
        .from(contacts)
        .where(and(...conditions))
        .orderBy(desc(contacts.createTime), desc(contacts.id))
        .limit(query.limit),
    );
    return rows.map((row) => ({ item: contactFromRow(row.contact), key: { time: row.keyTime, id: row.contact.id } }));
  }

  async getSettings(tenantId: string): Promise<StoredConversationSettings> {
    if (!(await tenantExists(this.#db, tenantId))) return NO_STORED_SETTINGS;
    return withTenant(this.#db, tenantId, readConversationSettings);
  }

  async updateSettings(tenantId: string, change: SettingsChange): Promise<StoredConversationSettings> {
    // Settings may come before the first account: the tenant gets its schema now.
    await ensureTenant(this.#db, tenantId, { tenantDir: this.#options.tenantDir });
    const set: Partial<typeof tenantSettings.$inferInsert> = {};
    if (change.optOutKeywords !== undefined) set.optOutKeywords = change.optOutKeywords === null ? null : [...change.optOutKeywords];
    if (change.optInKeywords !== undefined) set.optInKeywords = change.optInKeywords === null ? null : [...change.optInKeywords];
    if (change.inactivityTimeoutSeconds !== undefined) set.inactivityTimeoutSeconds = change.inactivityTimeoutSeconds;
    return withTenant(this.#db, tenantId, async (tx) => {
      await tx
        .insert(tenantSettings)
        .values({ id: 1, ...set, updateTime: sql`now()` })
        .onConflictDoUpdate({ target: tenantSettings.id, set: { ...set, updateTime: sql`now()` } });
      return readConversationSettings(tx);
    });
  }

  inTransaction<T>(tenantId: string, work: (tx: ConversationTransaction) => Promise<T>): Promise<T> {
    return inCountingTransaction(
      this.#db,
      tenantId,
      this.#options,
      async (tx: Transaction) => new PostgresConversationTransaction(tx, tenantId, await tenantExists(tx, tenantId)),
      work,
    );
  }

  inStartTransaction<T>(tenantId: string, opening: ConversationOpening, work: (tx: StartConversationTransaction) => Promise<T>): Promise<T> {
    return inCountingTransaction(
      this.#db,
      tenantId,
      this.#options,
      async (tx: Transaction) => new PostgresStartTransaction(tx, tenantId, await tenantExists(tx, tenantId), this.#options.newId, opening),
      work,
    );
  }
}

class PostgresConversationTransaction implements ConversationTransaction {
  readonly #tx: Database;
  readonly #tenantId: string;
  readonly #tenantExists: boolean;
  /** Closing events appended; this transaction queues no send jobs. */
  readonly written: WrittenWork = { events: 0, jobs: 0 };

  constructor(tx: Database, tenantId: string, tenantExists: boolean) {
    this.#tx = tx;
    this.#tenantId = tenantId;
    this.#tenantExists = tenantExists;
  }

  async lockConversation(conversationId: string): Promise<ConversationRecord | undefined> {
    if (!this.#tenantExists || !UUID.test(conversationId)) return undefined;
    const [row] = await selectConversations(this.#tx).where(eq(conversations.id, conversationId)).limit(1).for("update", { of: conversations });
    return row && recordFromRow(row);
  }

  async applyUpdate(conversationId: string, set: ConversationUpdatePlan["set"]): Promise<ConversationSnapshot> {
    const [row] = await this.#tx
      .update(conversations)
      .set({ ...set, updateTime: sql`now()` })
      .where(eq(conversations.id, conversationId))
      .returning();
    if (!row) throw new Error(`conversation ${conversationId} vanished`);
    return conversationFromRow(row);
  }

  accountRef(accountId: string): Promise<AccountRef | undefined> {
    return accountRefOf(this.#tx, this.#tenantId, accountId);
  }

  async appendClosed(event: ConversationClosed): Promise<void> {
    await appendEvents(this.#tx, [event]);
    this.written.events++;
  }
}

/** The send path's transaction, opening conversations the way StartConversation asks. */
class PostgresStartTransaction extends PostgresOutboundTransaction implements StartConversationTransaction {
  readonly #tx: Database;
  readonly #tenantId: string;
  readonly #newId: () => string;
  readonly #opening: ConversationOpening;

  constructor(tx: Database, tenantId: string, tenantExists: boolean, newId: () => string, opening: ConversationOpening) {
    super(tx, tenantId, tenantExists, newId);
    this.#tx = tx;
    this.#tenantId = tenantId;
    this.#newId = newId;
    this.#opening = opening;
  }

  override async findOrOpenConversation(accountId: string, contactId: string, at: Date): Promise<ConversationForSend> {
    const { source, ...details } = this.#opening;
    return findOrOpenConversation(this.#tx, { accountId, contactId, at, source, newId: this.#newId, details });
  }

  claimRequest(requestId: string, provisionalMessageId: string, now: Date, expireTime: Date): Promise<string> {
    return this.claimIdempotencyKey(REQUEST_KEY_PREFIX + requestId, provisionalMessageId, now, expireTime);
  }

  async bindRequest(requestId: string, messageId: string): Promise<void> {
    await this.#tx.update(sendIdempotencyKeys).set({ messageId }).where(eq(sendIdempotencyKeys.key, REQUEST_KEY_PREFIX + requestId));
  }

  async contactByWaId(waId: string): Promise<ContactSnapshot | undefined> {
    const [row] = await this.#tx.select().from(contacts).where(eq(contacts.waId, waId)).limit(1);
    return row && contactFromRow(row);
  }

  async templateCategory(accountId: string, name: string, language: string): Promise<string | undefined> {
    // Templates belong to the WABA: one created through another number of the same WABA counts too.
    const wabaOfAccount = sql`(select a.waba_id from ${accounts} a where a.id = ${accountId}::uuid and a.waba_id <> '')`;
    const [row] = await this.#tx
      .select({ category: templates.category })
      .from(templates)
      .where(
        and(
          eq(templates.name, name),
          eq(templates.language, language),
          isNull(templates.deleteTime),
          or(eq(templates.accountId, accountId), sql`${templates.wabaId} = ${wabaOfAccount}`),
        ),
      )
      .limit(1);
    return row?.category;
  }

  conversation(conversationId: string): Promise<ConversationRecord | undefined> {
    return conversationById(this.#tx, conversationId);
  }

  accountRef(accountId: string): Promise<AccountRef | undefined> {
    return accountRefOf(this.#tx, this.#tenantId, accountId);
  }
}

async function conversationById(tx: Database, conversationId: string): Promise<ConversationRecord | undefined> {
  const [row] = await selectConversations(tx).where(eq(conversations.id, conversationId)).limit(1);
  return row && recordFromRow(row);
}

async function accountRefOf(tx: Database, tenantId: string, accountId: string): Promise<AccountRef | undefined> {
  if (!UUID.test(accountId)) return undefined;
  const [row] = await tx
    .select()
    .from(accounts)
    .where(and(eq(accounts.id, accountId), eq(accounts.tenantId, tenantId)))
    .limit(1);
  return row && accountFromRow(row);
}

/** The stored settings, inside a tenant transaction (also the opt-out reaction's and the inactivity job's). */
export async function readConversationSettings(tx: Database): Promise<StoredConversationSettings> {
  const [row] = await tx.select().from(tenantSettings).where(eq(tenantSettings.id, 1)).limit(1);
  if (!row) return NO_STORED_SETTINGS;
  return {
    optOutKeywords: row.optOutKeywords ?? undefined,
    optInKeywords: row.optInKeywords ?? undefined,
    inactivityTimeoutSeconds: row.inactivityTimeoutSeconds ?? undefined,
    updateTime: row.updateTime,
  };
}


function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
