/**
 * Issue 3 acceptance, end to end through the real service: `startService`
 * with its inbox worker and outbox relay, NATS_URL pointing at a private
 * nats-server, webhooks POSTed over HTTP by the Meta simulator (signed like
 * Meta signs), and events read back by a separate NATS consumer that decodes
 * them with the generated protobuf types.
 *
 * 1. Every inbound message type and status of the reference ends as the
 *    right normalised row and exactly one event on
 *    whatsapp.{tenant}.message.received / .message.status.
 * 2. 1,000 deliveries with duplicates, reordered statuses and batches, with
 *    NATS killed and restarted in the middle: each wamid stored once at its
 *    final status, and the stream holds exactly one event per state change.
 */
import { randomBytes } from "node:crypto";

import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";

import { MessageStatus, MessageType } from "../gen/whatsapp/v1/message_pb.js";
import { withTenant, type Transaction } from "../src/adapters/postgres/index.js";
import { applyPendingStatuses } from "./kit/early-statuses.js";
import { outbox, webhookInbox } from "../src/adapters/postgres/schema/control.js";
import { contacts, messages } from "../src/adapters/postgres/schema/tenant.js";
import type { Account } from "../src/domain/account.js";
import { advancesTo, type DeliveryStatus } from "../src/domain/message-status.js";
import {
  contact,
  deliver,
  deliverAll,
  messagesChange,
  metaEnvelope,
  metaFixture,
  newWamid,
  retarget,
  seededRandom,
  signDelivery,
  statusUpdate,
  textMessage,
  type Json,
  type MetaPayload,
  type SignedDelivery,
  type StatusName,
} from "./support/meta-simulator.js";
import { startNatsServer, type CollectedEvent, type NatsTestServer } from "./support/nats-server.js";
import { startTestService, type TestService } from "./support/service.js";
import { eventually } from "./kit/eventually.js";

const APP_SECRET = "inbound-e2e-app-secret";
const STREAM = `E2E_${randomBytes(3).toString("hex")}`;
const DISPLAY_NUMBER = "+15550783881";

let nats: NatsTestServer;
let service: TestService;

beforeAll(async () => {
  nats = await startNatsServer();
  service = await startTestService({
    env: { META_APP_SECRET: APP_SECRET, NATS_URL: nats.url, NATS_STREAM: STREAM, NATS_STREAM_MAX_AGE_SECONDS: "3600", LOG_LEVEL: "info" },
  });
});

afterAll(async () => {
  await service?.cleanup();
  await nats?.cleanup();
});

// ------------------------------------------------------------------ helpers

function uniqueNumber(label: string): { tenantId: string; phoneNumberId: string; wabaId: string } {
  const suffix = randomBytes(4).toString("hex");
  const digits = String(parseInt(suffix, 16)).padStart(10, "0");
  return { tenantId: `${label}-${suffix}`, phoneNumberId: `1${digits}`, wabaId: `2${digits}` };
}

async function createAccount(ids: { tenantId: string; phoneNumberId: string; wabaId: string }): Promise<Account> {
  return service.service.app.accounts.create({
    id: uuidv7(),
    tenantId: ids.tenantId,
    provider: "meta",
    displayName: "E2E number",
    phoneNumberId: ids.phoneNumberId,
    wabaId: ids.wabaId,
    displayPhoneNumber: DISPLAY_NUMBER,
    businessId: "biz-e2e",
    rateLimitPerSecond: 80,
    status: "active",
    credentials: {},
    metadata: {},
  });
}

const webhookUrl = () => `${service.service.url}/webhook`;
const db = () => service.service.app.database.db;


/** The tenant's outbox rows (what the processing committed) and whether all are published. */
async function outboxState(tenantId: string): Promise<{ ids: string[]; unpublished: number }> {
  const rows = await db().select({ id: outbox.id, publishedAt: outbox.publishedAt }).from(outbox).where(eq(outbox.tenantId, tenantId));
  return { ids: rows.map((r) => r.id), unpublished: rows.filter((r) => r.publishedAt === null).length };
}

/** Waits until every inbox row of the tenant's number is done and every event it produced is on the stream; returns the stream's events. */
async function settled(tenantId: string, phoneNumberId: string, deliveries: number, timeoutMs = 120_000): Promise<CollectedEvent[]> {
  await eventually(
    "the inbox to be processed",
    async () => {
      const rows = await db()
        .select({ status: webhookInbox.status })
        .from(webhookInbox)
        .where(sql`convert_from(${webhookInbox.body}, 'UTF8') like ${`%${phoneNumberId}%`}`);
      return rows.length === deliveries && rows.every((r) => r.status !== "pending") ? rows : undefined;
    },
    { timeoutMs, retryErrors: true },
  );
  const state = await eventually("the relay to publish every event", async () => {
    const current = await outboxState(tenantId);
    return current.unpublished === 0 ? current : undefined;
  }, { timeoutMs, retryErrors: true });
  return eventually("the stream to hold every event", async () => {
    const events = await nats.collectEvents(STREAM, `whatsapp.${tenantId}.>`);
    return events.length >= state.ids.length ? events : undefined;
  }, { timeoutMs, retryErrors: true });
}

function ofType<T extends CollectedEvent["event"] extends infer E ? (E extends { type: infer K } ? K : never) : never>(events: CollectedEvent[], type: T) {
  return events.flatMap((e) => (e.event?.type === type ? [{ ...e, message: e.event.message as Extract<NonNullable<CollectedEvent["event"]>, { type: T }>["message"] }] : []));
}

/** An outbound message as the sending work records it once Meta answered with its wamid. */
async function insertOutboundRow(tx: Transaction, accountId: string, wamid: string, status: DeliveryStatus, waId = "972987654321"): Promise<string> {
  const [row] = await tx
    .insert(contacts)
    .values({ waId, phoneE164: `+${waId}` })
    .onConflictDoUpdate({ target: contacts.waId, set: { updateTime: sql`now()` } })
    .returning({ id: contacts.id });
  const id = uuidv7();
  await tx.insert(messages).values({
    id,
    accountId,
    contactId: row!.id,
    direction: "outbound",
    type: "text",
    wamid,
    status,
    content: { text: { body: "Your order has shipped" } },
  });
  return id;
}

function insertOutbound(tenantId: string, accountId: string, wamid: string, status: DeliveryStatus): Promise<string> {
  return withTenant(db(), tenantId, (tx) => insertOutboundRow(tx, accountId, wamid, status));
}

// ------------------------------------------------------------------ acceptance 1

/** Fixture → the message type it normalises to. */
const MESSAGE_FIXTURES: [string, MessageType][] = [
  ["pywa_message__text", MessageType.TEXT],
  ["pywa_message__image", MessageType.IMAGE],
  ["pywa_message__media_with_url", MessageType.IMAGE],
  ["pywa_message__video", MessageType.VIDEO],
  ["pywa_message__audio", MessageType.AUDIO],
  ["pywa_message__voice", MessageType.AUDIO],
  ["pywa_message__document", MessageType.DOCUMENT],
  ["pywa_message__static_sticker", MessageType.STICKER],
  ["pywa_message__animated_sticker", MessageType.STICKER],
  ["pywa_message__current_location", MessageType.LOCATION],
  ["pywa_message__chosen_location", MessageType.LOCATION],
  ["pywa_message__contacts", MessageType.CONTACTS],
  ["pywa_callback_button__button", MessageType.INTERACTIVE],
  ["pywa_callback_selection__callback", MessageType.INTERACTIVE],
  ["pywa_callback_selection__description", MessageType.INTERACTIVE],
  ["pywa_flow_completion__completion", MessageType.INTERACTIVE],
  ["pywa_flow_completion__without_flow_token", MessageType.INTERACTIVE],
  ["pywa_message__interactive_message_with_err", MessageType.UNSUPPORTED],
  ["pywa_callback_button__quick_reply", MessageType.BUTTON],
  ["pywa_callback_button__quick_reply_without_context", MessageType.BUTTON],
  ["pywa_message__reaction", MessageType.REACTION],
  ["pywa_message__unreaction_empty", MessageType.REACTION],
  ["pywa_message__unreaction_no_emoji", MessageType.REACTION],
  ["pywa_message__order", MessageType.ORDER],
  ["pywa_message__referral", MessageType.TEXT],
  ["ref_message__ctwa_referral", MessageType.TEXT],
  ["ref_message__referred_product", MessageType.TEXT],
  ["pywa_message__reply", MessageType.TEXT],
  ["pywa_message__forwarded", MessageType.TEXT],
  ["pywa_message__forwarded_many_times", MessageType.TEXT],
  ["pywa_system__phone_number_change", MessageType.SYSTEM],
  ["pywa_system__identity_change", MessageType.SYSTEM],
  ["pywa_message__unsupported", MessageType.UNSUPPORTED],
  ["pywa_message__unsupported_with_type", MessageType.UNSUPPORTED],
  ["ref_message__newer_type", MessageType.UNSUPPORTED],
];

/** Status fixture → the status the outbound message starts in, and the one it ends at. */
const STATUS_FIXTURES: [string, DeliveryStatus, MessageStatus][] = [
  ["pywa_message_status__sent", "sending", MessageStatus.SENT],
  ["ref_status__sent_pmp", "sending", MessageStatus.SENT],
  ["pywa_message_status__delivered", "sent", MessageStatus.DELIVERED],
  ["pywa_message_status__read", "sent", MessageStatus.READ],
  ["pywa_message_status__played", "delivered", MessageStatus.READ],
  ["pywa_message_status__group", "sent", MessageStatus.READ],
  ["pywa_message_status__with_tracker", "sending", MessageStatus.SENT],
  ["pywa_message_status__failed", "sent", MessageStatus.FAILED],
  ["ref_status__failed_131047", "sent", MessageStatus.FAILED],
];

type JsonObject = { [key: string]: Json };

/** The fixture's first message (or status) object, so the test can give it a wamid of its own. */
function firstItem(payload: MetaPayload, list: "messages" | "statuses"): JsonObject {
  const items = payload.entry[0]!.changes[0]!.value[list] as JsonObject[] | undefined;
  if (!items?.[0]) throw new Error(`fixture has no ${list}`);
  return items[0];
}

describe("acceptance 1: every message type and status, through HTTP, the service and NATS", () => {
  it("when Meta posts each reference message and status, then each is one normalised row and exactly one decodable event on its subject", async () => {
    const ids = uniqueNumber("e2e-types");
    const account = await createAccount(ids);

    const expectedMessages = new Map<string, MessageType>();
    const deliveries: SignedDelivery[] = [];
    for (const [fixture, type] of MESSAGE_FIXTURES) {
      const payload = retarget(metaFixture(fixture), { phoneNumberId: ids.phoneNumberId, wabaId: ids.wabaId });
      const message = firstItem(payload, "messages");
      // Fixtures reuse a few wamids; each gets its own so each is a distinct message.
      message.id = newWamid();
      expectedMessages.set(message.id, type);
      deliveries.push(signDelivery(payload, APP_SECRET));
    }
    const expectedStatuses = new Map<string, { messageId: string; to: MessageStatus }>();
    for (const [fixture, from, to] of STATUS_FIXTURES) {
      const payload = retarget(metaFixture(fixture), { phoneNumberId: ids.phoneNumberId, wabaId: ids.wabaId });
      const status = firstItem(payload, "statuses");
      status.id = newWamid();
      const messageId = await insertOutbound(ids.tenantId, account.id, String(status.id), from);
      expectedStatuses.set(String(status.id), { messageId, to });
      deliveries.push(signDelivery(payload, APP_SECRET));
    }

    for (const delivery of deliveries) {
      const answer = await deliver(webhookUrl(), delivery.body, { appSecret: APP_SECRET });
      expect(answer.status).toBe(200);
    }
    const events = await settled(ids.tenantId, ids.phoneNumberId, deliveries.length);

    // Rows: each wamid once, normalised.
    const rows = await withTenant(db(), ids.tenantId, (tx) => tx.select().from(messages));
    const rowOf = new Map(rows.map((r) => [r.wamid, r]));
    expect(rows).toHaveLength(expectedMessages.size + expectedStatuses.size);
    for (const [wamid, type] of expectedMessages) {
      const row = rowOf.get(wamid);
      expect(row, wamid).toMatchObject({ direction: "inbound", status: "received", accountId: account.id });
      expect(MessageType[type].toLowerCase()).toBe(row?.type);
    }

    // Events: one per message on .message.received, one per status on .message.status, all decodable, no duplicates.
    expect(new Set(events.map((e) => e.msgId)).size).toBe(events.length);
    for (const e of events) {
      expect(e.contentType).toBe("application/protobuf");
      expect(e.subject).toBe(`whatsapp.${ids.tenantId}.${e.eventType}`);
      expect(e.event?.message.eventId).toBe(e.msgId);
    }
    const received = ofType(events, "message.received");
    expect(received.map((e) => e.message.wamid).sort()).toEqual([...expectedMessages.keys()].sort());
    for (const { message } of received) {
      const row = rowOf.get(message.wamid)!;
      expect(message, message.wamid).toMatchObject({
        tenantId: ids.tenantId,
        accountId: account.id,
        phoneNumberId: ids.phoneNumberId,
        messageId: row.id,
        conversationId: row.conversationId,
        type: expectedMessages.get(message.wamid),
      });
      expect(message.message?.type).toBe(expectedMessages.get(message.wamid));
    }
    const statuses = ofType(events, "message.status");
    expect(statuses.map((e) => e.message.wamid).sort()).toEqual([...expectedStatuses.keys()].sort());
    for (const { message } of statuses) {
      const expected = expectedStatuses.get(message.wamid)!;
      expect(message, message.wamid).toMatchObject({ accountId: account.id, messageId: expected.messageId, status: expected.to });
      expect(rowOf.get(message.wamid)?.status).toBe(MessageStatus[expected.to].toLowerCase());
    }
    // Besides those, one message.failed per failed message, and the contact.created / conversation.opened of first messages.
    const failedWamids = [...expectedStatuses].filter(([, e]) => e.to === MessageStatus.FAILED).map(([wamid]) => wamid);
    expect(events.filter((e) => e.eventType === "message.failed").length).toBe(failedWamids.length);
    const others = events.filter((e) => e.eventType !== "message.received" && e.eventType !== "message.status" && e.eventType !== "message.failed");
    expect(new Set(others.map((e) => e.eventType))).toEqual(new Set(["contact.created", "conversation.opened"]));
    // And the stream holds exactly what the service committed.
    expect(new Set(events.map((e) => e.msgId))).toEqual(new Set((await outboxState(ids.tenantId)).ids));
  });
});

// ------------------------------------------------------------------ acceptance 2

interface Outbound {
  wamid: string;
  /** Recorded by the sending work only while the deliveries arrive (statuses may beat it). */
  late: boolean;
  final: DeliveryStatus;
}

interface ThousandScenario {
  deliveries: SignedDelivery[];
  inbound: string[];
  outbound: Outbound[];
  senders: string[];
}

/**
 * 300 inbound messages (200 alone, 100 in batches of 5) from 30 senders; 150
 * outbound messages: 120 get a random part of sent/delivered/read, 30 get
 * sent then failed; 30% of multi-status wamids get them in one delivery in
 * reverse order (read before delivered); 40 wamids are recorded late
 * (statuses before their message); duplicates pad to 1,000; all shuffled.
 */
function thousandDeliveries(phoneNumberId: string, wabaId: string): ThousandScenario {
  const random = seededRandom(20250601);
  const base = Math.floor(Date.now() / 1000) - 3600;
  const senders = Array.from({ length: 30 }, (_, i) => `97253000${String(i).padStart(4, "0")}`);
  const envelope = (change: { contacts?: Json[]; messages?: Json[]; statuses?: Json[] }) =>
    signDelivery(metaEnvelope(wabaId, [messagesChange({ phoneNumberId, displayPhoneNumber: DISPLAY_NUMBER.slice(1), ...change })]), APP_SECRET);
  const text = (i: number, wamid: string) => textMessage({ from: senders[i % 30]!, id: wamid, body: `message ${i} ✓`, timestamp: String(base + i) });

  const inbound = Array.from({ length: 300 }, () => newWamid());
  const originals: SignedDelivery[] = [];
  for (let i = 0; i < 200; i++) originals.push(envelope({ contacts: [contact(senders[i % 30]!, `Cliente ${i % 30}`)], messages: [text(i, inbound[i]!)] }));
  for (let i = 200; i < 300; i += 5) {
    const batch = inbound.slice(i, i + 5);
    originals.push(
      envelope({
        contacts: [...new Set(batch.map((_, k) => senders[(i + k) % 30]!))].map((waId) => contact(waId, "Cliente")),
        messages: batch.map((wamid, k) => text(i + k, wamid)),
      }),
    );
  }

  const outbound: Outbound[] = [];
  for (let i = 0; i < 150; i++) {
    const wamid = newWamid();
    const at = base + 1000 + i * 10;
    const recipientId = senders[i % 30]!;
    let chain: StatusName[];
    if (i < 120) {
      chain = (["sent", "delivered", "read"] as const).filter(() => random() < 0.7);
      if (chain.length === 0) chain = ["read"];
    } else {
      chain = ["sent", "failed"];
    }
    const items = chain.map((status, k) => statusUpdate({ id: wamid, status, recipientId, timestamp: String(at + k) }));
    if (items.length >= 2 && random() < 0.3) originals.push(envelope({ statuses: [...items].reverse() }));
    else for (const item of items) originals.push(envelope({ statuses: [item] }));
    outbound.push({ wamid, late: i >= 110, final: chain[chain.length - 1] === "failed" ? "failed" : (chain[chain.length - 1] as DeliveryStatus) });
  }

  const deliveries = [...originals];
  while (deliveries.length < 1000) deliveries.push(originals[Math.floor(random() * originals.length)]!);
  for (let i = deliveries.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
  }
  return { deliveries, inbound, outbound, senders };
}

const STATUS_NAME = new Map<MessageStatus, DeliveryStatus>([
  [MessageStatus.QUEUED, "queued"],
  [MessageStatus.SENDING, "sending"],
  [MessageStatus.SENT, "sent"],
  [MessageStatus.DELIVERED, "delivered"],
  [MessageStatus.READ, "read"],
  [MessageStatus.FAILED, "failed"],
]);

describe("acceptance 2: 1,000 deliveries with duplicates, reordering and batches while NATS is killed and restarted", () => {
  it("when the run is over, then each wamid is stored once at its final status and the stream holds exactly one event per state change", async () => {
    const ids = uniqueNumber("e2e-thousand");
    const account = await createAccount(ids);
    const scenario = thousandDeliveries(ids.phoneNumberId, ids.wabaId);
    expect(scenario.deliveries).toHaveLength(1000);
    for (const o of scenario.outbound.filter((x) => !x.late)) await insertOutbound(ids.tenantId, account.id, o.wamid, "sending");

    // First half with NATS up; then NATS is killed (SIGKILL) while the rest
    // arrive and the sending work records the late wamids; then it comes back.
    const first = await deliverAll(webhookUrl(), scenario.deliveries.slice(0, 500), { concurrency: 16 });
    await nats.stop();
    const recording = (async () => {
      for (const o of scenario.outbound.filter((x) => x.late)) {
        // As the sending work will: record the wamid, then apply the statuses that beat it, in one transaction.
        const written = await withTenant(db(), ids.tenantId, async (tx) => {
          await insertOutboundRow(tx, account.id, o.wamid, "sending");
          return applyPendingStatuses(tx, o.wamid);
        });
        if (written > 0) service.service.app.outboxWakeup.notify();
      }
    })();
    const second = await deliverAll(webhookUrl(), scenario.deliveries.slice(500), { concurrency: 16 });
    await recording;
    await nats.start();
    expect([...first, ...second].filter((a) => a.status !== 200)).toEqual([]);

    const events = await settled(ids.tenantId, ids.phoneNumberId, 1000, 180_000);

    // The database: each wamid once, at its final status; nothing left pending.
    const stored = await withTenant(db(), ids.tenantId, (tx) => tx.select({ wamid: messages.wamid, status: messages.status }).from(messages));
    expect(stored).toHaveLength(450);
    const statusOf = new Map(stored.map((m) => [m.wamid, m.status]));
    expect(statusOf.size).toBe(450);
    for (const wamid of scenario.inbound) expect(statusOf.get(wamid), wamid).toBe("received");
    for (const o of scenario.outbound) expect(statusOf.get(o.wamid), o.wamid).toBe(o.final);
    const inboxRows = await db()
      .select({ status: webhookInbox.status })
      .from(webhookInbox)
      .where(sql`convert_from(${webhookInbox.body}, 'UTF8') like ${`%${ids.phoneNumberId}%`}`);
    expect(inboxRows.filter((r) => r.status !== "processed")).toEqual([]);

    // The stream: every committed event exactly once (one Nats-Msg-Id each), nothing else, none lost to the outage.
    const perMsgId = new Map<string, number>();
    for (const e of events) perMsgId.set(e.msgId ?? "", (perMsgId.get(e.msgId ?? "") ?? 0) + 1);
    expect([...perMsgId.values()].filter((n) => n !== 1)).toEqual([]);
    expect(new Set(perMsgId.keys())).toEqual(new Set((await outboxState(ids.tenantId)).ids));
    const perSubject = new Map<string, number>();
    for (const e of events) perSubject.set(e.subject, (perSubject.get(e.subject) ?? 0) + 1);

    // Inbound: one message.received per wamid; one contact and one conversation per sender.
    const subject = (name: string) => `whatsapp.${ids.tenantId}.${name}`;
    const received = ofType(events, "message.received");
    expect(new Set(received.map((e) => e.message.wamid))).toEqual(new Set(scenario.inbound));
    expect(perSubject.get(subject("message.received"))).toBe(300);
    expect(perSubject.get(subject("contact.created"))).toBe(30);
    expect(perSubject.get(subject("conversation.opened"))).toBe(30);

    // Statuses: per wamid an unbroken forward chain from `sending` to its final status — one event per state change.
    const chains = new Map<string, { previous: DeliveryStatus; status: DeliveryStatus }[]>();
    for (const { message } of ofType(events, "message.status")) {
      const step = { previous: STATUS_NAME.get(message.previousStatus)!, status: STATUS_NAME.get(message.status)! };
      chains.set(message.wamid, [...(chains.get(message.wamid) ?? []), step]);
    }
    let stateChanges = 0;
    for (const o of scenario.outbound) {
      let current: DeliveryStatus = "sending";
      const steps = chains.get(o.wamid) ?? [];
      // Stream order is commit order, and one wamid's statuses are applied one at a time.
      for (const step of steps) {
        expect(step.previous, `${o.wamid} chain`).toBe(current);
        expect(advancesTo(current, step.status), `${o.wamid}: ${current} → ${step.status}`).toBe(true);
        current = step.status;
      }
      expect(current, `${o.wamid} last event`).toBe(o.final);
      stateChanges += steps.length;
    }
    expect(perSubject.get(subject("message.status"))).toBe(stateChanges);
    // Each failed message also has its one message.failed.
    const failedFinal = scenario.outbound.filter((o) => o.final === "failed").length;
    expect(perSubject.get(subject("message.failed")) ?? 0).toBe(failedFinal);
    expect(events).toHaveLength(300 + 30 + 30 + stateChanges + failedFinal);
    expect(await pendingStatusCount(ids.tenantId)).toBe(0);
  });
});

async function pendingStatusCount(tenantId: string): Promise<number> {
  return withTenant(db(), tenantId, async (tx) => {
    const result: unknown = await tx.execute(sql`select count(*)::int as n from pending_statuses`);
    const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as { n: number }[];
    return Number(rows[0]?.n ?? 0);
  });
}
