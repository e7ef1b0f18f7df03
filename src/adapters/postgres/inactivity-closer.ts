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
 * Tenants are visited one after another (control.tenants), one short
 * transaction per batch.
 */
import { and, eq, inArray, ne, sql } from "drizzle-orm";

import type { ConversationClosed } from "../../domain/conversations/conversation-update.js";
import { effectiveSettings } from "../../domain/conversations/settings.js";
import type { AppContext } from "../../context.js";
import type { Logger } from "../../observability/logger.js";
import { Wakeup } from "../shared/wakeup.js";
import { conversationClosedToOutbox } from "../events/conversation-closed-pb.js";
import { readConversationSettings } from "./conversation-store.js";
import type { Database } from "./database.js";
import { accountFromRow, contactFromRow, conversationFromRow } from "./inbound-rows.js";
import { appendToOutbox } from "./outbox.js";
import { accounts, tenants } from "./schema/control.js";
import { contacts, conversations } from "./schema/tenant.js";
import { withTenant } from "./tenant-scope.js";

export interface InactivityCloserOptions {
  db: Database;
  logger: Logger;
  newId: () => string;
  now: () => Date;
  /** Timeout for tenants that set none (CONVERSATION_INACTIVITY_TIMEOUT_SECONDS). */
  defaultTimeoutSeconds: number;
  /** Pause between sweeps (INACTIVITY_SWEEP_INTERVAL_MS). */
  intervalMs: number;
  /** Conversations closed per transaction. Default 200. */
  batchSize?: number;
  /** Called after a commit that wrote events (wakes the outbox relay). */
  onEventsCommitted?: () => void;
}

const DEFAULT_BATCH_SIZE = 200;

export class InactivityCloser {
  readonly #options: InactivityCloserOptions;
  readonly #batchSize: number;
  readonly #wakeup = new Wakeup();
  #abort: AbortController | undefined;
  #running: Promise<void> | undefined;

  constructor(options: InactivityCloserOptions) {
    this.#options = options;
    this.#batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  }

  /** Sweeps now, then every `intervalMs`, until stopped. */
  start(): void {
    if (this.#running) return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#running = this.#loop(abort.signal);
  }

  /** Finishes the sweep in progress (its transactions commit or roll back) and stops. */
  async stop(): Promise<void> {
    this.#abort?.abort();
    await this.#running;
    this.#running = undefined;
  }

  /** Sweeps every tenant once; the number of conversations closed. */
  async sweep(): Promise<number> {
    const rows = await this.#options.db.select({ id: tenants.id }).from(tenants).orderBy(tenants.id);
    let closed = 0;
    for (const { id } of rows) {
      if (this.#abort?.signal.aborted) break;
      try {
        closed += await this.sweepTenant(id);
      } catch (error) {
        this.#options.logger.error({ err: error, tenant: id }, "inactivity sweep failed for a tenant");
      }
    }
    return closed;
  }

  /** Closes the tenant's idle conversations, batch by batch; how many. */
  async sweepTenant(tenantId: string): Promise<number> {
    let total = 0;
    for (;;) {
      const closed = await withTenant(this.#options.db, tenantId, (tx) => this.#closeBatch(tx, tenantId));
      if (closed > 0) this.#options.onEventsCommitted?.();
      total += closed;
      if (closed < this.#batchSize || this.#abort?.signal.aborted) return total;
    }
  }

  async #closeBatch(tx: Database, tenantId: string): Promise<number> {
    const { inactivityTimeoutSeconds } = effectiveSettings(await readConversationSettings(tx), this.#options.defaultTimeoutSeconds);
    const now = this.#options.now();
    const cutoff = new Date(now.getTime() - inactivityTimeoutSeconds * 1000).toISOString();
    // greatest() ignores nulls: the latest of the times that are set.
    const lastActivity = sql`greatest(${conversations.lastInboundTime}, ${conversations.lastOutboundTime}, ${conversations.createTime})`;
    const idle = await tx
      .select({ id: conversations.id })
      .from(conversations)
      .where(and(ne(conversations.status, "closed"), sql`${lastActivity} < ${cutoff}::timestamptz`))
      .orderBy(lastActivity)
      .limit(this.#batchSize)
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
      events.push({ kind: "conversation.closed", eventId: this.#options.newId(), account, occurredAt: now, conversation: conversationFromRow(row), contact, reason: "inactivity" });
    }
    await appendToOutbox(tx, events.map(conversationClosedToOutbox));
    return closed.length;
  }

  async #loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const closed = await this.sweep();
        if (closed > 0) this.#options.logger.info({ closed }, "closed inactive conversations");
      } catch (error) {
        this.#options.logger.error({ err: error }, "inactivity sweep failed");
      }
      await this.#wakeup.wait(this.#options.intervalMs, signal);
    }
  }
}

/** The inactivity job as a background worker of the service, when this replica runs the `scheduler` worker. */
export function startInactivityCloser(app: AppContext, tuning: Partial<Pick<InactivityCloserOptions, "batchSize" | "intervalMs">> = {}): InactivityCloser | undefined {
  if (!app.config.workers.has("scheduler")) return undefined;
  const closer = new InactivityCloser({
    db: app.database.db,
    logger: app.logger.child({ worker: "inactivity" }),
    newId: app.newId,
    now: app.now,
    defaultTimeoutSeconds: app.config.conversationInactivityTimeoutSeconds,
    intervalMs: app.config.inactivitySweepIntervalMs,
    onEventsCommitted: () => app.outboxWakeup.notify(),
    ...tuning,
  });
  closer.start();
  return closer;
}
