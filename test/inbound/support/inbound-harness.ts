/**
 * What the inbound tests share: a migrated test database, Meta accounts,
 * webhook deliveries inserted into control.webhook_inbox the way the HTTP
 * edge stores them, inbox workers, and readers for the rows and outbox
 * events the processing leaves behind.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { fromBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { asc, eq, sql } from "drizzle-orm";
import { v7 as uuidv7 } from "uuid";

import { SecretBox } from "../../../src/adapters/crypto/secret-box.js";
import { PostgresInboxQueue } from "../../../src/adapters/postgres/inbox/inbox-queue.js";
import { InboxWorker, type InboxWorkerOptions } from "../../../src/workers/inbox-worker.js";
import {
  migrate,
  openDatabase,
  PostgresAccountRepository,
  withTenant,
  type Database,
  type DatabaseHandle,
  type Transaction,
} from "../../../src/adapters/postgres/index.js";
import { outbox, webhookInbox } from "../../../src/adapters/postgres/schema/control.js";
import { contacts, messages } from "../../../src/adapters/postgres/schema/tenant.js";
import type { Account } from "../../../src/domain/account.js";
import type { MessageStatus } from "../../../src/domain/message-status.js";
import {
  ContactCreatedEventSchema,
  ConversationOpenedEventSchema,
  MessageReceivedEventSchema,
  MessageStatusEventSchema,
  MessageFailedEventSchema,
} from "../../../gen/whatsapp/v1/events_pb.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";

export const silentLogger = { debug() {}, info() {}, warn() {}, error() {} };

export interface InboundDatabase {
  testDatabase: TestDatabase;
  handle: DatabaseHandle;
  db: Database;
  /** Another pool on the same database: what a second replica would have. */
  openAnotherHandle(): Promise<DatabaseHandle>;
  cleanup(): Promise<void>;
}

export async function createInboundDatabase(): Promise<InboundDatabase> {
  const testDatabase = await createTestDatabase("inbound");
  const handles: DatabaseHandle[] = [];
  const open = async () => {
    const handle = await openDatabase({ databaseUrl: testDatabase.url, dataDir: "unused" });
    handles.push(handle);
    return handle;
  };
  const handle = await open();
  await migrate(handle.db);
  return {
    testDatabase,
    handle,
    db: handle.db,
    openAnotherHandle: open,
    async cleanup() {
      await Promise.all(handles.map((h) => h.close()));
      await testDatabase.drop();
    },
  };
}

/** A tenant id and Meta phone number id no other test uses. */
export function uniqueIds(label: string): { tenantId: string; phoneNumberId: string; wabaId: string } {
  const suffix = randomBytes(4).toString("hex");
  const digits = String(parseInt(suffix, 16)).padStart(10, "0");
  return { tenantId: `${label}-${suffix}`, phoneNumberId: `1${digits}`, wabaId: `2${digits}` };
}

export async function createMetaAccount(
  db: Database,
  ids: { tenantId: string; phoneNumberId: string; wabaId: string },
  displayPhoneNumber = "+15550783881",
): Promise<Account> {
  const repository = new PostgresAccountRepository(db, new SecretBox(randomBytes(32)));
  return repository.create({
    id: uuidv7(),
    tenantId: ids.tenantId,
    provider: "meta",
    displayName: "Test number",
    phoneNumberId: ids.phoneNumberId,
    wabaId: ids.wabaId,
    displayPhoneNumber,
    businessId: "biz-1",
    rateLimitPerSecond: 80,
    status: "active",
    credentials: {},
    metadata: {},
  });
}

const FIXTURES = fileURLToPath(new URL("../../fixtures/meta/", import.meta.url));

export type Payload = { entry: { id?: string; changes: { value: Record<string, unknown>; field: string }[] }[] } & Record<string, unknown>;

/** A fixture as Meta sent it, addressed to our test number (and WABA). */
export function metaFixture(name: string, ids?: { phoneNumberId: string; wabaId?: string }): Payload {
  const payload = JSON.parse(readFileSync(`${FIXTURES}${name}.json`, "utf8")) as Payload;
  if (!ids) return payload;
  for (const entry of payload.entry) {
    if (ids.wabaId !== undefined) entry.id = ids.wabaId;
    for (const change of entry.changes) {
      const metadata = change.value.metadata as Record<string, unknown> | undefined;
      if (metadata) metadata.phone_number_id = ids.phoneNumberId;
    }
  }
  return payload;
}

/** One delivery of several payloads' entries (Meta batches up to 1,000 updates). */
export function batch(...payloads: Payload[]): Payload {
  return { object: "whatsapp_business_account", entry: payloads.flatMap((p) => p.entry) };
}

/** Stores a delivery as the HTTP edge does after checking its signature; returns the inbox row id. */
export async function insertDelivery(db: Database, body: unknown, options: { receivedAt?: Date } = {}): Promise<string> {
  const id = uuidv7();
  await db.insert(webhookInbox).values({
    id,
    provider: "meta",
    path: "/webhook",
    headers: {},
    body: Buffer.from(typeof body === "string" ? body : JSON.stringify(body)),
    signatureValid: true,
    status: "pending",
    ...(options.receivedAt ? { receivedAt: options.receivedAt } : {}),
  });
  return id;
}

export function createWorker(
  db: Database,
  options: Partial<Omit<InboxWorkerOptions, "queue">> = {},
): InboxWorker {
  const tuning = options;
  const newId = tuning.newId ?? (() => uuidv7());
  const now = tuning.now ?? (() => new Date());
  const queue = new PostgresInboxQueue(db, { newId, now });
  return new InboxWorker({ queue, logger: silentLogger, newId, now, retryDelayMs: 1, ...tuning });
}

/** Runs claim-and-process rounds until nothing is claimable. */
export async function drain(worker: InboxWorker): Promise<void> {
  while ((await worker.runOnce()) > 0) {
    // keep going
  }
}


export async function inboxRow(db: Database, id: string) {
  const [row] = await db.select().from(webhookInbox).where(eq(webhookInbox.id, id));
  if (!row) throw new Error(`inbox row ${id} not found`);
  return row;
}

const SCHEMAS = {
  "message.received": MessageReceivedEventSchema,
  "message.status": MessageStatusEventSchema,
  "message.failed": MessageFailedEventSchema,
  "conversation.opened": ConversationOpenedEventSchema,
  "contact.created": ContactCreatedEventSchema,
} as const;
type EventName = keyof typeof SCHEMAS;

export interface StoredEvent<N extends EventName = EventName> {
  name: N;
  subject: string;
  headers: Record<string, string>;
  outboxId: string;
  event: MessageShape<(typeof SCHEMAS)[N]>;
}

/** The tenant's outbox rows in commit order, decoded with the generated types. */
export async function outboxEvents(db: Database, tenantId: string): Promise<StoredEvent[]> {
  const rows = await db.select().from(outbox).where(eq(outbox.tenantId, tenantId)).orderBy(asc(outbox.seq));
  return rows.map((row) => {
    const name = row.eventType as EventName;
    const schema: DescMessage = SCHEMAS[name];
    if (!schema) throw new Error(`unexpected event type ${row.eventType}`);
    return { name, subject: row.subject, headers: row.headers, outboxId: row.id, event: fromBinary(schema, row.payload) } as StoredEvent;
  });
}

export function eventsNamed<N extends EventName>(events: StoredEvent[], name: N): StoredEvent<N>[] {
  return events.filter((e): e is StoredEvent<N> => e.name === name);
}

export function inTenant<T>(db: Database, tenantId: string, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  return withTenant(db, tenantId, fn);
}

export async function messageByWamid(db: Database, tenantId: string, wamid: string) {
  return inTenant(db, tenantId, async (tx) => {
    const rows = await tx.select().from(messages).where(eq(messages.wamid, wamid));
    if (rows.length > 1) throw new Error(`wamid ${wamid} stored ${rows.length} times`);
    return rows[0];
  });
}

/**
 * An outbound message as the sending work records it once Meta accepted it
 * (contact, message row with its wamid), so status webhooks have something
 * to move.
 */
export async function insertOutboundMessage(
  db: Database,
  tenantId: string,
  accountId: string,
  options: { wamid: string; status?: MessageStatus; waId?: string; metadata?: Record<string, string>; text?: string },
): Promise<string> {
  const waId = options.waId ?? "972987654321";
  return inTenant(db, tenantId, async (tx) => {
    const [contact] = await tx
      .insert(contacts)
      .values({ waId, phoneE164: `+${waId}` })
      .onConflictDoUpdate({ target: contacts.waId, set: { updateTime: sql`now()` } })
      .returning({ id: contacts.id });
    const id = uuidv7();
    await tx.insert(messages).values({
      id,
      accountId,
      contactId: contact!.id,
      direction: "outbound",
      type: "text",
      wamid: options.wamid,
      status: options.status ?? "sent",
      content: { text: { body: options.text ?? "Your order has shipped" } },
      metadata: options.metadata ?? { order: "A-17" },
      sentTime: options.status === undefined || options.status === "sent" ? new Date() : null,
    });
    return id;
  });
}

/** Rows of a tenant table. */
export async function countRows(db: Database, tenantId: string, table: "contacts" | "conversations" | "messages" | "pending_statuses" | "provider_updates"): Promise<number> {
  return inTenant(db, tenantId, async (tx) => {
    const result: unknown = await tx.execute(sql`select count(*)::int as n from ${sql.identifier(table)}`);
    const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as { n: number }[];
    return Number(rows[0]?.n ?? 0);
  });
}
