/**
 * Several replicas on one inbox, and Acceptance 2: 1,000 deliveries with
 * duplicates, reordered statuses (read before delivered, status before
 * message) and batches end with each wamid stored once at its final status
 * and exactly one event per state change.
 */
import { asc, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";

import { applyPendingStatuses } from "../kit/early-statuses.js";
import type { InboxWorker } from "../../src/workers/inbox-worker.js";
import { webhookInbox } from "../../src/adapters/postgres/schema/control.js";
import { contacts, messages } from "../../src/adapters/postgres/schema/tenant.js";
import { advancesTo, type DeliveryStatus, type MessageStatus as StoredStatus } from "../../src/domain/message-status.js";
import { MessageStatus } from "../../gen/whatsapp/v1/message_pb.js";
import {
  countRows,
  createInboundDatabase,
  createMetaAccount,
  createWorker,
  eventsNamed,
  inTenant,
  insertDelivery,
  metaFixture,
  outboxEvents,
  uniqueIds,
  type InboundDatabase,
  type Payload,
} from "./support/inbound-harness.js";
import { eventually } from "../kit/eventually.js";

let database: InboundDatabase;

beforeAll(async () => {
  database = await createInboundDatabase();
});

afterAll(async () => {
  await database?.cleanup();
});

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], rnd: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

type MessageItem = Record<string, unknown>;
type StatusItem = { id: string; status: string; timestamp: string; recipient_id: string; errors?: unknown[] };

/** One delivery for our number carrying these messages and statuses (Meta batches both). */
function delivery(phoneNumberId: string, items: { messages?: MessageItem[]; statuses?: StatusItem[] }): Payload {
  const payload = metaFixture("pywa_message__text", { phoneNumberId });
  const value = payload.entry[0]!.changes[0]!.value;
  delete value.messages;
  if (items.messages) value.messages = items.messages;
  if (items.statuses) value.statuses = items.statuses;
  value.contacts = [...new Set((items.messages ?? []).map((m) => String(m.from)))].map((waId) => ({ profile: { name: `User ${waId}` }, wa_id: waId }));
  return payload;
}

function textItem(wamid: string, from: string, at: number): MessageItem {
  return { from, id: wamid, timestamp: String(at), type: "text", text: { body: wamid } };
}

function statusItem(wamid: string, status: string, at: number, errors?: unknown[]): StatusItem {
  return { id: wamid, status, timestamp: String(at), recipient_id: "972987654321", ...(errors ? { errors } : {}) };
}

async function startWorkers(count: number): Promise<InboxWorker[]> {
  const workers: InboxWorker[] = [];
  for (let i = 0; i < count; i++) {
    const handle = i === 0 ? database.handle : await database.openAnotherHandle();
    workers.push(createWorker(handle.db, { workerId: `replica-${i}`, pollIntervalMs: 20, concurrency: 4 }));
  }
  for (const worker of workers) worker.start();
  return workers;
}

async function allDone(ids: string[]): Promise<true | undefined> {
  const rows = await database.db.select({ status: webhookInbox.status }).from(webhookInbox).where(inArray(webhookInbox.id, ids));
  return rows.length === ids.length && rows.every((r) => r.status !== "pending") ? true : undefined;
}

describe("replicas", () => {
  it("when two workers on two database pools process the same 300 pending deliveries, then each is applied exactly once", async () => {
    const ids = uniqueIds("replicas");
    await createMetaAccount(database.db, ids);
    const senders = Array.from({ length: 10 }, (_, i) => `97250000${String(i).padStart(4, "0")}`);
    const inboxIds: string[] = [];
    for (let i = 0; i < 300; i++) {
      inboxIds.push(await insertDelivery(database.db, delivery(ids.phoneNumberId, { messages: [textItem(`wamid.r${i}`, senders[i % 10]!, 1_750_000_000 + i)] })));
    }

    const workers = await startWorkers(2);
    try {
      await eventually("300 deliveries", () => allDone(inboxIds), { timeoutMs: 60_000 });
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }

    const rows = await database.db.select().from(webhookInbox).where(inArray(webhookInbox.id, inboxIds));
    expect(rows.every((r) => r.status === "processed" && r.attempts === 1)).toBe(true);
    expect(new Set(rows.map((r) => r.id)).size).toBe(300);
    expect(workers.reduce((sum, w) => sum + w.stats().processed, 0)).toBe(300);
    expect(await countRows(database.db, ids.tenantId, "messages")).toBe(300);
    const events = await outboxEvents(database.db, ids.tenantId);
    const received = eventsNamed(events, "message.received");
    expect(received).toHaveLength(300);
    expect(new Set(received.map((e) => e.event.wamid)).size).toBe(300);
    // Concurrent first messages of a contact still create it and open its conversation once.
    expect(eventsNamed(events, "contact.created")).toHaveLength(10);
    expect(eventsNamed(events, "conversation.opened")).toHaveLength(10);
    expect(await countRows(database.db, ids.tenantId, "conversations")).toBe(10);
  });
});

describe("acceptance: 1,000 deliveries with duplicates, reordering and batches", () => {
  it("when they are processed by two replicas while the sending work records late wamids, then each wamid is stored once at its final status with one event per state change", async () => {
    const ids = uniqueIds("thousand");
    const account = await createMetaAccount(database.db, ids);
    const rnd = random(20250601);
    const base = 1_750_000_000;
    const senders = Array.from({ length: 30 }, (_, i) => `97252000${String(i).padStart(4, "0")}`);

    // Inbound: 300 messages, 200 alone and 100 in batches of 5.
    const inboundWamids = Array.from({ length: 300 }, (_, i) => `wamid.in.${i}`);
    const inboundDeliveries: Payload[] = [];
    for (let i = 0; i < 200; i++) inboundDeliveries.push(delivery(ids.phoneNumberId, { messages: [textItem(inboundWamids[i]!, senders[i % 30]!, base + i)] }));
    for (let i = 200; i < 300; i += 5) {
      inboundDeliveries.push(delivery(ids.phoneNumberId, { messages: inboundWamids.slice(i, i + 5).map((w, k) => textItem(w, senders[(i + k) % 30]!, base + i + k)) }));
    }

    // Outbound: 150 messages waiting in `sending`; 120 get a random part of
    // sent/delivered/read, 30 get sent and failed. 40 of them are recorded
    // by the sending work only while the deliveries are being processed.
    type Outbound = { wamid: string; statuses: StatusItem[]; expected: DeliveryStatus; late: boolean };
    const outbound: Outbound[] = [];
    for (let i = 0; i < 150; i++) {
      const wamid = `wamid.out.${i}`;
      const at = base + 1000 + i * 10;
      let statuses: StatusItem[];
      let expected: DeliveryStatus;
      if (i < 120) {
        const chain = (["sent", "delivered", "read"] as const).filter(() => rnd() < 0.7);
        if (chain.length === 0) chain.push("read");
        statuses = chain.map((s, k) => statusItem(wamid, s, at + k));
        expected = chain[chain.length - 1]!;
      } else {
        statuses = [statusItem(wamid, "sent", at), statusItem(wamid, "failed", at + 1, [{ code: 131026, title: "Message undeliverable" }])];
        expected = "failed";
      }
      outbound.push({ wamid, statuses, expected, late: i % 150 >= 110 });
    }
    const statusDeliveries: Payload[] = [];
    for (const o of outbound) {
      // Some statuses travel together in one delivery, in reverse order (read before delivered).
      if (o.statuses.length >= 2 && rnd() < 0.3) statusDeliveries.push(delivery(ids.phoneNumberId, { statuses: [...o.statuses].reverse() }));
      else for (const s of o.statuses) statusDeliveries.push(delivery(ids.phoneNumberId, { statuses: [s] }));
    }

    // Meta repeats deliveries: pad with duplicates of random ones up to 1,000, then shuffle everything.
    const originals = [...inboundDeliveries, ...statusDeliveries];
    const deliveries = [...originals];
    while (deliveries.length < 1000) deliveries.push(originals[Math.floor(rnd() * originals.length)]!);
    shuffle(deliveries, rnd);
    expect(deliveries).toHaveLength(1000);

    // Messages the sending work recorded before any webhook arrived.
    for (const o of outbound.filter((x) => !x.late)) await recordOutbound(ids.tenantId, account.id, o.wamid);

    const inboxIds: string[] = [];
    for (const d of deliveries.slice(0, 500)) inboxIds.push(await insertDelivery(database.db, d));
    const workers = await startWorkers(2);
    try {
      // While the replicas work: the rest of the deliveries arrive, and the
      // sending work records the late wamids (applying what was kept for them).
      const arriving = (async () => {
        for (const d of deliveries.slice(500)) inboxIds.push(await insertDelivery(database.db, d));
      })();
      const recording = (async () => {
        for (const o of outbound.filter((x) => x.late)) {
          await inTenant(database.db, ids.tenantId, async (tx) => {
            await insertOutboundRow(tx, account.id, o.wamid);
            await applyPendingStatuses(tx, o.wamid);
          });
        }
      })();
      await Promise.all([arriving, recording]);
      await eventually("1,000 deliveries", () => allDone(inboxIds), { timeoutMs: 120_000 });
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }

    const rows = await database.db.select({ status: webhookInbox.status }).from(webhookInbox).where(inArray(webhookInbox.id, inboxIds));
    expect(rows.filter((r) => r.status !== "processed")).toEqual([]);

    // Each wamid once.
    const stored = await inTenant(database.db, ids.tenantId, (tx) =>
      tx.select({ wamid: messages.wamid, status: messages.status, direction: messages.direction }).from(messages),
    );
    expect(stored).toHaveLength(450);
    expect(new Set(stored.map((m) => m.wamid)).size).toBe(450);
    const statusOf = new Map(stored.map((m) => [m.wamid, m.status]));
    for (const wamid of inboundWamids) expect(statusOf.get(wamid)).toBe("received");

    // Final statuses, and one event per state change forming an unbroken forward chain.
    const events = await outboxEvents(database.db, ids.tenantId);
    const statusEvents = eventsNamed(events, "message.status");
    const byWamid = new Map<string, typeof statusEvents>();
    for (const e of statusEvents) byWamid.set(e.event.wamid, [...(byWamid.get(e.event.wamid) ?? []), e]);
    for (const o of outbound) {
      expect(statusOf.get(o.wamid), o.wamid).toBe(o.expected);
      let current: StoredStatus = "sending";
      for (const e of byWamid.get(o.wamid) ?? []) {
        const next = pbStatusName(e.event.status);
        expect(pbStatusName(e.event.previousStatus), `${o.wamid} event chain`).toBe(current);
        expect(advancesTo(current, next), `${o.wamid}: ${current} → ${next}`).toBe(true);
        current = next;
      }
      expect(current, `${o.wamid} last event`).toBe(o.expected);
    }
    expect(await countRows(database.db, ids.tenantId, "pending_statuses")).toBe(0);

    // Inbound: one message.received per wamid; one contact and conversation per sender.
    const received = eventsNamed(events, "message.received");
    expect(received).toHaveLength(300);
    expect(new Set(received.map((e) => e.event.wamid))).toEqual(new Set(inboundWamids));
    expect(eventsNamed(events, "contact.created")).toHaveLength(30);
    expect(eventsNamed(events, "conversation.opened")).toHaveLength(30);
    // Each failed message also has its one message.failed; the outbox holds nothing else.
    const failures = eventsNamed(events, "message.failed");
    expect(failures.map((e) => e.event.wamid).sort()).toEqual(outbound.filter((o) => o.expected === "failed").map((o) => o.wamid).sort());
    expect(events.length).toBe(300 + 30 + 30 + statusEvents.length + failures.length);
  });
});

const PB_TO_STATUS = new Map<MessageStatus, DeliveryStatus>([
  [MessageStatus.QUEUED, "queued"],
  [MessageStatus.SENDING, "sending"],
  [MessageStatus.SENT, "sent"],
  [MessageStatus.DELIVERED, "delivered"],
  [MessageStatus.READ, "read"],
  [MessageStatus.FAILED, "failed"],
]);

function pbStatusName(status: MessageStatus): DeliveryStatus {
  const name = PB_TO_STATUS.get(status);
  if (!name) throw new Error(`unexpected status ${status}`);
  return name;
}

async function recordOutbound(tenantId: string, accountId: string, wamid: string): Promise<void> {
  await inTenant(database.db, tenantId, (tx) => insertOutboundRow(tx, accountId, wamid));
}

/** The outbound message as the sending work records it: queued earlier, now `sending` with its wamid. */
async function insertOutboundRow(tx: Parameters<Parameters<typeof inTenant>[2]>[0], accountId: string, wamid: string): Promise<void> {
  const waId = "972987654321";
  await tx.insert(contacts).values({ waId, phoneE164: `+${waId}` }).onConflictDoNothing();
  const [contact] = await tx.select({ id: contacts.id }).from(contacts).where(eq(contacts.waId, waId)).orderBy(asc(contacts.createTime));
  await tx.insert(messages).values({
    id: uuidv7(),
    accountId,
    contactId: contact!.id,
    direction: "outbound",
    type: "text",
    wamid,
    status: "sending",
    content: { text: { body: wamid } },
  });
}
