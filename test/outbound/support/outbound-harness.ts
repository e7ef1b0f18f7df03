/**
 * For the delivery-path tests: the real service against a Graph API
 * simulator, accounts created through the repository, and messages queued
 * the way the send path queues them — a tenant `messages` row (status
 * `queued`, the Graph message object as content) and, in the same
 * transaction, a `send_message` job in control.jobs.
 */
import { randomBytes } from "node:crypto";

import { eq, inArray, sql } from "drizzle-orm";
import { v7 as uuidv7 } from "uuid";

import type { AppContext, ContextOverrides } from "../../../src/context.js";
import { queryRows, withTenant, type Database } from "../../../src/adapters/postgres/index.js";
import { jobs, outbox } from "../../../src/adapters/postgres/schema/control.js";
import { contacts, messages } from "../../../src/adapters/postgres/schema/tenant.js";
import type { SenderTuning } from "../../../src/config.js";
import type { Provider } from "../../../src/domain/account.js";
import { PRIORITY_RANK, type SendPriority } from "../../../src/domain/priority.js";
import type { TestDatabase } from "../../support/database.js";
import type { GraphSimulator } from "../../support/graph-simulator.js";
import { startTestService, uniqueTenant, type TestService } from "../../support/service.js";
import { eventually } from "../../kit/eventually.js";

/** Fast enough for tests: short backoffs, a short reconcile window. */
export const FAST_SENDER: SenderTuning = {
  retry: { baseDelayMs: 20, maxDelayMs: 200, pairRateBaseDelayMs: 50, maxAttempts: 6 },
  reconcile: { windowMs: 1_500, checkEveryMs: 200 },
  circuit: { failureThreshold: 5, openMs: 500, probeTimeoutMs: 5_000 },
  pollIntervalMs: 100,
  leaseMs: 30_000,
};

/** One key for every service of a test file: processes sharing a database must read each other's credentials. */
const ENCRYPTION_KEY = randomBytes(32).toString("base64");

export interface OutboundServiceOptions {
  simulator?: GraphSimulator;
  database?: TestDatabase;
  sender?: SenderTuning;
  overrides?: ContextOverrides;
  env?: Record<string, string>;
}

export function startOutboundService(options: OutboundServiceOptions = {}): Promise<TestService> {
  return startTestService({
    database: options.database,
    env: {
      WORKERS: "sender,inbox",
      ENCRYPTION_KEY,
      LOG_LEVEL: "info",
      ...(options.simulator ? { WHATSAPP_GRAPH_URL: options.simulator.url } : {}),
      ...options.env,
    },
    overrides: {
      providers: { graphTimeoutMs: 1_000, sandbox: { deliveredAfterMs: 200, readAfterMs: 400 } },
      ...options.overrides,
      sender: { ...FAST_SENDER, ...options.sender },
    },
  });
}

export interface TestAccount {
  id: string;
  tenantId: string;
  phoneNumberId: string;
  token: string;
}

export async function createAccount(
  app: AppContext,
  options: { provider?: Provider; rate?: number; tenantId?: string; phoneNumberId?: string } = {},
): Promise<TestAccount> {
  const tenantId = options.tenantId ?? uniqueTenant("out");
  const phoneNumberId = options.phoneNumberId ?? `pn-${randomBytes(5).toString("hex")}`;
  const token = `token-${randomBytes(6).toString("hex")}`;
  const account = await app.accounts.create({
    id: uuidv7(),
    tenantId,
    provider: options.provider ?? "meta",
    displayName: "Test sender",
    phoneNumberId,
    wabaId: `waba-${phoneNumberId}`,
    displayPhoneNumber: "+15550001111",
    businessId: "biz-1",
    rateLimitPerSecond: options.rate ?? 80,
    status: "active",
    credentials: options.provider === "sandbox" ? {} : { accessToken: token },
    metadata: {},
  });
  return { id: account.id, tenantId, phoneNumberId, token };
}

export interface QueuedMessage {
  to: string;
  priority?: SendPriority;
  text?: string;
}

/**
 * Queues messages (and their jobs) in one transaction, then wakes the
 * sender. Returns their ids in order. `abandoned`: as a worker that died
 * mid-send leaves them — message `sending`, job leased to a dead worker
 * whose lease has run out.
 */
export async function queueMessages(
  app: AppContext,
  account: TestAccount,
  items: readonly QueuedMessage[],
  options: { abandoned?: boolean } = {},
): Promise<string[]> {
  const ids = await withTenant(app.database.db, account.tenantId, async (tx) => {
    const waIds = [...new Set(items.map((i) => i.to))];
    const contactRows = await tx
      .insert(contacts)
      .values(waIds.map((waId) => ({ id: uuidv7(), waId, phoneE164: `+${waId}` })))
      .onConflictDoUpdate({ target: contacts.waId, set: { waId: sql`excluded.wa_id` } })
      .returning({ id: contacts.id, waId: contacts.waId });
    const contactOf = new Map(contactRows.map((c) => [c.waId, c.id]));
    const rows = items.map((item, i) => ({
      id: uuidv7(),
      accountId: account.id,
      contactId: contactOf.get(item.to)!,
      direction: "outbound" as const,
      type: "text",
      status: options.abandoned ? ("sending" as const) : ("queued" as const),
      attemptCount: options.abandoned ? 1 : 0,
      content: { type: "text", text: { body: item.text ?? `message ${i}`, preview_url: false } },
      recipient: item.to,
      priority: item.priority ?? "transactional",
      metadata: { n: String(i) },
    }));
    for (let i = 0; i < rows.length; i += 1_000) await tx.insert(messages).values(rows.slice(i, i + 1_000));
    const jobRows = rows.map((row) => ({
      id: uuidv7(),
      tenantId: account.tenantId,
      kind: "send_message",
      payload: { messageId: row.id, accountId: account.id },
      priority: PRIORITY_RANK[row.priority as SendPriority],
      ...(options.abandoned ? { lockedBy: "sender-that-died", lockedUntil: new Date(Date.now() - 1_000), attempts: 1 } : {}),
    }));
    for (let i = 0; i < jobRows.length; i += 1_000) await tx.insert(jobs).values(jobRows.slice(i, i + 1_000));
    return rows.map((r) => r.id);
  });
  app.sendWakeup.notify();
  return ids;
}

export interface MessageState {
  id: string;
  status: string;
  wamid: string | null;
  errorCode: string | null;
  errorTitle: string | null;
  attemptCount: number;
}

export async function messageStates(db: Database, tenantId: string, ids: readonly string[]): Promise<MessageState[]> {
  const rows = await withTenant(db, tenantId, (tx) =>
    tx
      .select({
        id: messages.id,
        status: messages.status,
        wamid: messages.wamid,
        errorCode: messages.errorCode,
        errorTitle: messages.errorTitle,
        attemptCount: messages.attemptCount,
      })
      .from(messages)
      .where(inArray(messages.id, [...ids])),
  );
  return rows;
}

/**
 * Polls until every message is in a final state for the sender (sent or
 * later, or failed). The poll is one count every 200 ms: the test shares
 * its event loop with the services, and heavy polling would delay their
 * send timers.
 */
export async function settled(db: Database, tenantId: string, ids: readonly string[], timeoutMs = 60_000): Promise<MessageState[]> {
  await eventually(
    `${ids.length} messages settled`,
    async () => {
      const [row] = await withTenant(db, tenantId, (tx) =>
        queryRows<{ n: number }>(
          tx,
          sql`select count(*)::int as n from ${messages} where id in (${sql.join(
            ids.map((id) => sql`${id}::uuid`),
            sql`, `,
          )}) and status in ('sent', 'delivered', 'read', 'failed')`,
        ),
      );
      return Number(row?.n) === ids.length ? true : undefined;
    },
    { timeoutMs, everyMs: 200 },
  );
  return messageStates(db, tenantId, ids);
}

export async function outboxEventTypes(db: Database, tenantId: string): Promise<string[]> {
  const rows = await db.select({ type: outbox.eventType }).from(outbox).where(eq(outbox.tenantId, tenantId)).orderBy(outbox.seq);
  return rows.map((r) => r.type);
}

export async function pendingJobs(db: Database, tenantId: string): Promise<number> {
  const [row] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from ${jobs} where tenant_id = ${tenantId}`);
  return Number(row?.n ?? 0);
}

export async function accountStatus(db: Database, accountId: string): Promise<string | undefined> {
  const [row] = await queryRows<{ status: string }>(db, sql`select status from control.accounts where id = ${accountId}::uuid`);
  return row?.status;
}


/** A recipient WhatsApp id no other message of the test uses. */
export function recipient(): string {
  return `1555${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;
}
