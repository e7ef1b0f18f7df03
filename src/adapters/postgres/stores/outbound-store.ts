/**
 * The OutboundStore port over PostgreSQL: one withTenant transaction per
 * send or retry (PostgresOutboundTransaction), and the reads of the send
 * path — a message, the failed list, the queue counters — each in its
 * tenant's schema. A tenant without a schema (no account ever) has nothing.
 */
import { and, asc, count, desc, eq, inArray, isNull, lte, min, or, sql, type SQL } from "drizzle-orm";

import { DomainError } from "../../../domain/errors.js";
import type { AccountQueueStats, StoredMessage } from "../../../domain/outbound/index.js";
import type { FailedMessagesPage, FailedMessagesQuery, OutboundStore, OutboundTransaction } from "../../../ports/outbound-store.js";
import type { Database, Transaction } from "../db/database.js";
import { PostgresOutboundTransaction } from "./outbound-transaction.js";
import { selectStoredMessages, storedMessageFromRow, UUID } from "./outbound-rows.js";
import { accounts, sendPacing } from "../schema/control.js";
import { inCountingTransaction } from "../send/send-transaction.js";
import { contacts, messages } from "../schema/tenant.js";
import { tenantExists, withTenant } from "../db/tenant-scope.js";

export interface OutboundStoreOptions {
  newId: () => string;
  /** Called after a commit that wrote events (wakes the outbox relay). */
  onEventsCommitted?: () => void;
  /** Called after a commit that queued send jobs (wakes the sender). */
  onJobsCommitted?: () => void;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export class PostgresOutboundStore implements OutboundStore {
  readonly #db: Database;
  readonly #options: OutboundStoreOptions;

  constructor(db: Database, options: OutboundStoreOptions) {
    this.#db = db;
    this.#options = options;
  }

  inTransaction<T>(tenantId: string, work: (tx: OutboundTransaction) => Promise<T>): Promise<T> {
    return inCountingTransaction(
      this.#db,
      tenantId,
      this.#options,
      // Whether the tenant has a schema is asked only if a read needs it (an account found answers it).
      (tx: Transaction) => new PostgresOutboundTransaction(tx, tenantId, () => tenantExists(tx, tenantId), this.#options.newId),
      work,
    );
  }

  async getMessage(tenantId: string, messageId: string): Promise<StoredMessage | undefined> {
    if (!UUID.test(messageId) || !(await tenantExists(this.#db, tenantId))) return undefined;
    const [row] = await withTenant(this.#db, tenantId, (tx) => selectStoredMessages(tx).where(eq(messages.id, messageId)).limit(1));
    return row && storedMessageFromRow(row);
  }

  async listFailedMessages(tenantId: string, query: FailedMessagesQuery): Promise<FailedMessagesPage> {
    const cursor = query.pageToken === "" ? undefined : decodeCursor(query.pageToken);
    if (!(await tenantExists(this.#db, tenantId))) return { messages: [], nextPageToken: "" };
    if (query.accountId !== undefined && !UUID.test(query.accountId)) return { messages: [], nextPageToken: "" };
    // A failed row normally has failed_time; update_time stands in should a writer have left it empty.
    const failTime = sql`coalesce(${messages.failedTime}, ${messages.updateTime})`;
    const conditions: SQL[] = [eq(messages.status, "failed"), eq(messages.direction, "outbound")];
    if (query.accountId !== undefined) conditions.push(eq(messages.accountId, query.accountId));
    if (query.minFailTime) conditions.push(sql`${failTime} >= ${query.minFailTime.toISOString()}::timestamptz`);
    if (cursor) conditions.push(sql`(${failTime}, ${messages.id}) < (${cursor.failTime}::timestamptz, ${cursor.id}::uuid)`);
    const rows = await withTenant(this.#db, tenantId, (tx) =>
      tx
        .select({
          message: messages,
          contact: contacts,
          accountPhone: accounts.displayPhoneNumber,
          // Read back as text: microseconds matter to the cursor and a JS Date drops them.
          failTimeText: sql<string>`${failTime}::text`,
        })
        .from(messages)
        .innerJoin(contacts, eq(contacts.id, messages.contactId))
        .leftJoin(accounts, eq(accounts.id, messages.accountId))
        .where(and(...conditions))
        .orderBy(desc(failTime), desc(messages.id))
        .limit(query.pageSize + 1),
    );
    const page = rows.slice(0, query.pageSize);
    const last = page.at(-1);
    return {
      messages: page.map(storedMessageFromRow),
      nextPageToken: rows.length > query.pageSize && last ? encodeCursor({ failTime: last.failTimeText, id: last.message.id }) : "",
    };
  }

  async queueStats(tenantId: string, accountId: string | undefined, now: Date): Promise<AccountQueueStats[]> {
    if (accountId !== undefined && !UUID.test(accountId)) return [];
    const conditions = [eq(accounts.tenantId, tenantId), isNull(accounts.deleteTime)];
    if (accountId !== undefined) conditions.push(eq(accounts.id, accountId));
    const live = await this.#db
      .select({ id: accounts.id, rate: accounts.rateLimitPerSecond })
      .from(accounts)
      .where(and(...conditions))
      .orderBy(asc(accounts.createTime), asc(accounts.id));
    if (live.length === 0) return [];
    const ids = live.map((a) => a.id);
    const since = new Date(now.getTime() - DAY_MS).toISOString();
    const rows = await withTenant(this.#db, tenantId, (tx) =>
      tx
        .select({
          accountId: messages.accountId,
          queued: count(sql`case when ${messages.status} = 'queued' and ${messages.attemptCount} = 0 then 1 end`),
          retrying: count(sql`case when ${messages.status} = 'queued' and ${messages.attemptCount} > 0 then 1 end`),
          sending: count(sql`case when ${messages.status} = 'sending' then 1 end`),
          failed: count(sql`case when ${messages.status} = 'failed' and coalesce(${messages.failedTime}, ${messages.updateTime}) >= ${since}::timestamptz then 1 end`),
          oldestUnsettled: min(sql<Date>`case when ${messages.status} in ('queued', 'sending') then ${messages.createTime} end`),
          // update_time is set when a send is claimed (status → sending) and not touched until its outcome.
          oldestSendingSince: min(sql<Date>`case when ${messages.status} = 'sending' then ${messages.updateTime} end`),
        })
        .from(messages)
        .where(
          and(
            inArray(messages.accountId, ids),
            eq(messages.direction, "outbound"),
            inArray(messages.status, ["queued", "sending", "failed"]),
            // Failed messages older than the 24-hour window are not counted: skip them early.
            sql`(${messages.status} <> 'failed' or coalesce(${messages.failedTime}, ${messages.updateTime}) >= ${since}::timestamptz)`,
          ),
        )
        .groupBy(messages.accountId),
    );
    const byAccount = new Map(rows.map((r) => [r.accountId, r]));
    const open = await circuitsHolding(this.#db, ids, now);
    return live.map(({ id, rate }) => {
      const r = byAccount.get(id);
      const ageMs = (since: Date | string | null | undefined) => (since ? Math.max(0, now.getTime() - new Date(since).getTime()) : 0);
      return {
        accountId: id,
        queued: r?.queued ?? 0,
        retrying: r?.retrying ?? 0,
        sending: r?.sending ?? 0,
        failed: r?.failed ?? 0,
        oldestAgeMs: ageMs(r?.oldestUnsettled),
        oldestSendingAgeMs: ageMs(r?.oldestSendingSince),
        rateLimitPerSecond: rate,
        circuitOpen: open.has(id),
      };
    });
  }

  async recordRead(tenantId: string, messageId: string, at: Date): Promise<void> {
    if (!UUID.test(messageId) || !(await tenantExists(this.#db, tenantId))) return;
    // WhatsApp marks the earlier messages of the chat read too; so do we. The
    // times are compared in SQL: a JS Date would drop the microseconds.
    const target = sql`(select t.conversation_id from messages t where t.id = ${messageId}::uuid)`;
    const targetTime = sql`(select t.create_time from messages t where t.id = ${messageId}::uuid)`;
    await withTenant(this.#db, tenantId, (tx) =>
      tx
        .update(messages)
        .set({ status: "read", readTime: sql`coalesce(${messages.readTime}, ${at.toISOString()}::timestamptz)`, updateTime: sql`now()` })
        .where(
          and(
            eq(messages.direction, "inbound"),
            eq(messages.status, "received"),
            or(eq(messages.id, messageId), and(sql`${messages.conversationId} = ${target}`, lte(messages.createTime, targetTime))),
          ),
        ),
    );
  }
}

/**
 * Accounts whose circuit breaker holds sends (control.send_pacing, kept by
 * the sending work): open until a time still ahead, or half-open (only a
 * probe goes out).
 */
async function circuitsHolding(db: Database, accountIds: string[], now: Date): Promise<ReadonlySet<string>> {
  const rows = await db
    .select({ accountId: sendPacing.accountId })
    .from(sendPacing)
    .where(
      and(
        inArray(sendPacing.accountId, accountIds),
        sql`(${sendPacing.circuitState} = 'half_open' or (${sendPacing.circuitState} = 'open' and coalesce(${sendPacing.circuitOpenUntil} > ${now.toISOString()}::timestamptz, true)))`,
      ),
    );
  return new Set(rows.map((r) => r.accountId));
}

interface Cursor {
  failTime: string;
  id: string;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.failTime, cursor.id]), "utf8").toString("base64url");
}

/** timestamptz as PostgreSQL prints it: `2025-06-01 12:00:00.123456+00`. */
const TIMESTAMP_TEXT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;

function decodeCursor(token: string): Cursor {
  const invalid = () => DomainError.invalid([{ field: "page_token", description: "is not a token this service returned" }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw invalid();
  const [failTime, id] = parsed as unknown[];
  if (typeof failTime !== "string" || !TIMESTAMP_TEXT.test(failTime) || typeof id !== "string" || !UUID.test(id)) throw invalid();
  return { failTime, id };
}

