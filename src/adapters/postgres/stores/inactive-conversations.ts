/**
 * The inactivity job: closes open conversations with no activity (no
 * message either way, nor their opening) for longer than the tenant's
 * timeout (tenant_settings.inactivity_timeout_seconds, else the service
 * default), each with close_reason `inactivity` and a conversation.closed
 * event in the same transaction. The contact's next message then opens a
 * new conversation.
 *
 * Safe with any number of replicas running it at once: each batch takes its
 * conversations `FOR UPDATE SKIP LOCKED` — two sweeps never close the same
 * conversation (nor publish its event twice), and a conversation that a
 * message is being added to right now (locked by findOrOpenConversation)
 * is skipped this round. The update re-checks `status <> 'closed'`.
 *
 * One short transaction per batch; the sweep over the tenants is the
 * worker's (workers/inactivity-closer.ts).
 */
import { and, eq, inArray, ne, sql } from "drizzle-orm";

import type { ConversationClosed } from "../../../domain/conversations/conversation-update.js";
import { effectiveSettings } from "../../../domain/conversations/settings.js";
import type { InactiveConversations } from "../../../ports/inactive-conversations.js";
import { readConversationSettings } from "./conversation-store.js";
import type { Database } from "../db/database.js";
import { accountFromRow, contactFromRow, conversationFromRow } from "./inbound-rows.js";
import { appendEvents } from "../outbox/outbox.js";
import { accounts, tenants } from "../schema/control.js";
import { contacts, conversations } from "../schema/tenant.js";
import { withTenant } from "../db/tenant-scope.js";

/** The inactive conversations port on PostgreSQL: one tenant transaction per batch. */
export class PostgresInactiveConversations implements InactiveConversations {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async tenantIds(): Promise<string[]> {
    const rows = await this.#db.select({ id: tenants.id }).from(tenants).orderBy(tenants.id);
    return rows.map((r) => r.id);
  }

  closeIdleBatch(tenantId: string, options: { defaultTimeoutSeconds: number; batchSize: number; now: Date; newId: () => string }): Promise<number> {
    return withTenant(this.#db, tenantId, (tx) => this.#closeBatch(tx, tenantId, options));
  }

  async #closeBatch(
    tx: Database,
    tenantId: string,
    options: { defaultTimeoutSeconds: number; batchSize: number; now: Date; newId: () => string },
  ): Promise<number> {
    const { inactivityTimeoutSeconds } = effectiveSettings(await readConversationSettings(tx), options.defaultTimeoutSeconds);
    const now = options.now;
    const cutoff = new Date(now.getTime() - inactivityTimeoutSeconds * 1000).toISOString();
    // greatest() ignores nulls: the latest of the times that are set.
    const lastActivity = sql`greatest(${conversations.lastInboundTime}, ${conversations.lastOutboundTime}, ${conversations.createTime})`;
    const idle = await tx
      .select({ id: conversations.id })
      .from(conversations)
      .where(and(ne(conversations.status, "closed"), sql`${lastActivity} < ${cutoff}::timestamptz`))
      .orderBy(lastActivity)
      .limit(options.batchSize)
      .for("update", { skipLocked: true });
    if (idle.length === 0) return 0;
    const closed = await tx
      .update(conversations)
      .set({ status: "closed", closeTime: now, closeReason: "inactivity", updateTime: sql`now()` })
      .where(
        and(
          inArray(
            conversations.id,
            idle.map((r) => r.id),
          ),
          ne(conversations.status, "closed"),
        ),
      )
      .returning();
    if (closed.length === 0) return 0;
    const contactRows = await tx
      .select()
      .from(contacts)
      .where(inArray(contacts.id, [...new Set(closed.map((c) => c.contactId))]));
    const accountRows = await tx
      .select()
      .from(accounts)
      .where(and(eq(accounts.tenantId, tenantId), inArray(accounts.id, [...new Set(closed.map((c) => c.accountId))])));
    const contactById = new Map(contactRows.map((c) => [c.id, contactFromRow(c)]));
    const accountById = new Map(accountRows.map((a) => [a.id, accountFromRow(a)]));
    const events: ConversationClosed[] = [];
    for (const row of closed) {
      const contact = contactById.get(row.contactId);
      const account = accountById.get(row.accountId);
      if (!contact || !account) throw new Error(`conversation ${row.id}: contact or account missing`);
      events.push({ kind: "conversation.closed", eventId: options.newId(), account, occurredAt: now, conversation: conversationFromRow(row), contact, reason: "inactivity" });
    }
    await appendEvents(tx, events);
    return closed.length;
  }
}
