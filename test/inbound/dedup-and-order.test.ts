/**
 * Meta repeats deliveries and reorders statuses (reference §4): the same
 * wamid is stored and published once, statuses only move forward with one
 * event per real state change, and a status that beats its message is kept
 * and applied when the sending work records the wamid.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { applyPendingStatuses } from "../kit/early-statuses.js";
import { conversations, pendingStatuses } from "../../src/adapters/postgres/schema/tenant.js";
import { MessageStatus } from "../../gen/whatsapp/v1/message_pb.js";
import {
  batch,
  countRows,
  createInboundDatabase,
  createMetaAccount,
  createWorker,
  drain,
  eventsNamed,
  inTenant,
  insertDelivery,
  insertOutboundMessage,
  messageByWamid,
  metaFixture,
  outboxEvents,
  uniqueIds,
  type InboundDatabase,
  type Payload,
} from "./support/inbound-harness.js";

let database: InboundDatabase;

beforeAll(async () => {
  database = await createInboundDatabase();
});

afterAll(async () => {
  await database?.cleanup();
});

/** A status delivery for `wamid` with Meta's string timestamp. */
function statusDelivery(phoneNumberId: string, wamid: string, status: string, at: number, extra: Record<string, unknown> = {}): Payload {
  const payload = metaFixture("pywa_message_status__read", { phoneNumberId });
  const value = payload.entry[0]!.changes[0]!.value;
  value.statuses = [{ id: wamid, status, timestamp: String(at), recipient_id: "972987654321", ...extra }];
  return payload;
}

function textDelivery(phoneNumberId: string, wamid: string, at: number, body = "hello"): Payload {
  const payload = metaFixture("pywa_message__text", { phoneNumberId });
  payload.entry[0]!.changes[0]!.value.messages = [{ from: "972987654321", id: wamid, timestamp: String(at), text: { body }, type: "text" }];
  return payload;
}

describe("duplicates", () => {
  it("when the same delivery arrives three times, then one row and one set of events", async () => {
    const ids = uniqueIds("dup");
    await createMetaAccount(database.db, ids);
    const payload = metaFixture("pywa_message__text", ids);
    for (let i = 0; i < 3; i++) await insertDelivery(database.db, payload);

    await drain(createWorker(database.db));

    expect(await countRows(database.db, ids.tenantId, "messages")).toBe(1);
    expect((await outboxEvents(database.db, ids.tenantId)).map((e) => e.name)).toEqual(["contact.created", "conversation.opened", "message.received"]);
    const [conversation] = await inTenant(database.db, ids.tenantId, (tx) => tx.select().from(conversations));
    expect(conversation).toMatchObject({ messageCount: 1, inboundMessageCount: 1 });
  });

  it("when one delivery carries the same message twice, then it is stored and published once", async () => {
    const ids = uniqueIds("dupin");
    await createMetaAccount(database.db, ids);
    const payload = metaFixture("pywa_message__text", ids);
    await insertDelivery(database.db, batch(payload, payload));
    await drain(createWorker(database.db));
    expect(eventsNamed(await outboxEvents(database.db, ids.tenantId), "message.received")).toHaveLength(1);
  });

  it("when a contact writes again, then the same contact and open conversation take the message, with no new contact or conversation event", async () => {
    const ids = uniqueIds("again");
    await createMetaAccount(database.db, ids);
    await insertDelivery(database.db, textDelivery(ids.phoneNumberId, "wamid.one", 1_750_000_000));
    await insertDelivery(database.db, textDelivery(ids.phoneNumberId, "wamid.two", 1_750_000_100, "second"));
    await drain(createWorker(database.db));

    const events = await outboxEvents(database.db, ids.tenantId);
    expect(events.map((e) => e.name)).toEqual(["contact.created", "conversation.opened", "message.received", "message.received"]);
    const [first, second] = eventsNamed(events, "message.received");
    expect(second?.event.conversationId).toBe(first?.event.conversationId);
    const [conversation] = await inTenant(database.db, ids.tenantId, (tx) => tx.select().from(conversations));
    expect(conversation).toMatchObject({ messageCount: 2, inboundMessageCount: 2, lastInboundTime: new Date(1_750_000_100_000) });
  });

  it("when an older message is processed after a newer one, then the 24-hour window does not move back", async () => {
    const ids = uniqueIds("window");
    await createMetaAccount(database.db, ids);
    await insertDelivery(database.db, textDelivery(ids.phoneNumberId, "wamid.new", 1_750_000_500));
    await insertDelivery(database.db, textDelivery(ids.phoneNumberId, "wamid.old", 1_750_000_000));
    await drain(createWorker(database.db));
    const [conversation] = await inTenant(database.db, ids.tenantId, (tx) => tx.select().from(conversations));
    expect(conversation?.lastInboundTime).toEqual(new Date(1_750_000_500_000));
  });

  it("when the conversation was closed, then the next message opens a new one", async () => {
    const ids = uniqueIds("closed");
    await createMetaAccount(database.db, ids);
    await insertDelivery(database.db, textDelivery(ids.phoneNumberId, "wamid.c1", 1_750_000_000));
    const worker = createWorker(database.db);
    await drain(worker);
    await inTenant(database.db, ids.tenantId, (tx) => tx.update(conversations).set({ status: "closed", closeTime: new Date() }));
    await insertDelivery(database.db, textDelivery(ids.phoneNumberId, "wamid.c2", 1_750_000_100));
    await drain(worker);

    const events = await outboxEvents(database.db, ids.tenantId);
    expect(events.map((e) => e.name)).toEqual(["contact.created", "conversation.opened", "message.received", "conversation.opened", "message.received"]);
    const opened = eventsNamed(events, "conversation.opened");
    expect(opened[1]?.event.conversationId).not.toBe(opened[0]?.event.conversationId);
  });

  it("when a reply or a reaction names a stored message, then its id in this service is filled in", async () => {
    const ids = uniqueIds("refs");
    const account = await createMetaAccount(database.db, ids);
    const outboundId = await insertOutboundMessage(database.db, ids.tenantId, account.id, { wamid: "wamid.yzxyzx=" });
    const reaction = metaFixture("pywa_message__reaction", ids);
    const reply = metaFixture("pywa_message__reply", ids);
    (reply.entry[0]!.changes[0]!.value.messages as { context: { id: string }; id: string }[])[0]!.context.id = "wamid.yzxyzx=";
    (reply.entry[0]!.changes[0]!.value.messages as { id: string }[])[0]!.id = "wamid.reply";
    await insertDelivery(database.db, batch(reaction, reply));
    await drain(createWorker(database.db));

    const [reacted, replied] = eventsNamed(await outboxEvents(database.db, ids.tenantId), "message.received").map((e) => e.event.message);
    expect(reacted?.content).toMatchObject({ case: "reaction", value: { reactedToWamid: "wamid.yzxyzx=", reactedToMessageId: outboundId, emoji: "😮" } });
    expect(replied?.context).toMatchObject({ repliedToWamid: "wamid.yzxyzx=", repliedToMessageId: outboundId });
  });
});

describe("status order", () => {
  it("when read arrives before delivered, then the message ends read with one event, and delivered only fills its time", async () => {
    const ids = uniqueIds("order");
    const account = await createMetaAccount(database.db, ids);
    await insertOutboundMessage(database.db, ids.tenantId, account.id, { wamid: "wamid.o1" });
    await insertDelivery(database.db, statusDelivery(ids.phoneNumberId, "wamid.o1", "read", 1_750_000_200));
    await insertDelivery(database.db, statusDelivery(ids.phoneNumberId, "wamid.o1", "delivered", 1_750_000_100));
    // One at a time, in arrival order: read is applied before delivered.
    await drain(createWorker(database.db, { concurrency: 1 }));

    const row = await messageByWamid(database.db, ids.tenantId, "wamid.o1");
    expect(row).toMatchObject({ status: "read", readTime: new Date(1_750_000_200_000), deliveredTime: new Date(1_750_000_100_000) });
    const statuses = eventsNamed(await outboxEvents(database.db, ids.tenantId), "message.status");
    expect(statuses.map((s) => [s.event.previousStatus, s.event.status])).toEqual([[MessageStatus.SENT, MessageStatus.READ]]);
  });

  it("when statuses come in order and repeated, then one event per step and none for repeats", async () => {
    const ids = uniqueIds("steps");
    const account = await createMetaAccount(database.db, ids);
    await insertOutboundMessage(database.db, ids.tenantId, account.id, { wamid: "wamid.s1", status: "sending" });
    for (const [status, at] of [["sent", 1], ["sent", 1], ["delivered", 2], ["delivered", 2], ["read", 3], ["read", 3], ["played", 4]] as const) {
      await insertDelivery(database.db, statusDelivery(ids.phoneNumberId, "wamid.s1", status, 1_750_000_000 + at));
    }
    await drain(createWorker(database.db, { concurrency: 1 }));

    const statuses = eventsNamed(await outboxEvents(database.db, ids.tenantId), "message.status");
    expect(statuses.map((s) => s.event.status)).toEqual([MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ]);
    expect((await messageByWamid(database.db, ids.tenantId, "wamid.s1"))?.status).toBe("read");
  });

  it("when failed arrives after sent, then the message fails with Meta's error; a late delivered changes nothing", async () => {
    const ids = uniqueIds("fail");
    const account = await createMetaAccount(database.db, ids);
    await insertOutboundMessage(database.db, ids.tenantId, account.id, { wamid: "wamid.f1" });
    const error = { code: 131049, title: "This message was not delivered to maintain healthy ecosystem engagement.", message: "x", error_data: { details: "per-user marketing limit" } };
    await insertDelivery(database.db, statusDelivery(ids.phoneNumberId, "wamid.f1", "failed", 1_750_000_100, { errors: [error] }));
    await insertDelivery(database.db, statusDelivery(ids.phoneNumberId, "wamid.f1", "delivered", 1_750_000_200));
    await drain(createWorker(database.db, { concurrency: 1 }));

    const row = await messageByWamid(database.db, ids.tenantId, "wamid.f1");
    expect(row).toMatchObject({ status: "failed", errorCode: "131049", errorDetails: "per-user marketing limit", deliveredTime: null });
    const statuses = eventsNamed(await outboxEvents(database.db, ids.tenantId), "message.status");
    expect(statuses).toHaveLength(1);
    expect(statuses[0]?.event).toMatchObject({ status: MessageStatus.FAILED, error: { code: 131049, details: "per-user marketing limit" } });
    // Failed for good, so also its one message.failed with the same code.
    const failures = eventsNamed(await outboxEvents(database.db, ids.tenantId), "message.failed");
    expect(failures.map((f) => f.event)).toMatchObject([{ error: { code: 131049, details: "per-user marketing limit" }, previousStatus: MessageStatus.SENT }]);
  });

  it("when failed arrives after read, then it is ignored: the device already confirmed the message", async () => {
    const ids = uniqueIds("failread");
    const account = await createMetaAccount(database.db, ids);
    await insertOutboundMessage(database.db, ids.tenantId, account.id, { wamid: "wamid.fr", status: "read" });
    await insertDelivery(database.db, statusDelivery(ids.phoneNumberId, "wamid.fr", "failed", 1_750_000_100, { errors: [{ code: 131000 }] }));
    await drain(createWorker(database.db));
    expect(await messageByWamid(database.db, ids.tenantId, "wamid.fr")).toMatchObject({ status: "read", errorCode: null, failedTime: null });
    expect(await outboxEvents(database.db, ids.tenantId)).toEqual([]);
  });

  it("when a status names an inbound message, then nothing changes", async () => {
    const ids = uniqueIds("inbound");
    await createMetaAccount(database.db, ids);
    await insertDelivery(database.db, textDelivery(ids.phoneNumberId, "wamid.in", 1_750_000_000));
    await insertDelivery(database.db, statusDelivery(ids.phoneNumberId, "wamid.in", "read", 1_750_000_100));
    await drain(createWorker(database.db, { concurrency: 1 }));
    expect((await messageByWamid(database.db, ids.tenantId, "wamid.in"))?.status).toBe("received");
    expect(eventsNamed(await outboxEvents(database.db, ids.tenantId), "message.status")).toEqual([]);
    expect(await countRows(database.db, ids.tenantId, "pending_statuses")).toBe(0);
  });
});

describe("statuses before their message", () => {
  it("when statuses arrive before the send recorded its wamid, then they are kept, and applied in arrival order when it is", async () => {
    const ids = uniqueIds("early");
    const account = await createMetaAccount(database.db, ids);
    // read beats delivered, and both beat the Graph API response.
    await insertDelivery(database.db, statusDelivery(ids.phoneNumberId, "wamid.e1", "sent", 1_750_000_000));
    await insertDelivery(database.db, statusDelivery(ids.phoneNumberId, "wamid.e1", "read", 1_750_000_200));
    await insertDelivery(database.db, statusDelivery(ids.phoneNumberId, "wamid.e1", "read", 1_750_000_200));
    await insertDelivery(database.db, statusDelivery(ids.phoneNumberId, "wamid.e1", "delivered", 1_750_000_100));
    await drain(createWorker(database.db, { concurrency: 1 }));

    expect(await outboxEvents(database.db, ids.tenantId)).toEqual([]);
    const kept = await inTenant(database.db, ids.tenantId, (tx) => tx.select().from(pendingStatuses).where(eq(pendingStatuses.wamid, "wamid.e1")));
    expect(kept.map((k) => k.providerStatus).sort()).toEqual(["delivered", "read", "sent"]);

    // The sending work records the message with its wamid, then applies what was kept, in one transaction.
    await insertOutboundMessage(database.db, ids.tenantId, account.id, { wamid: "wamid.e1", status: "sending" });
    const written = await inTenant(database.db, ids.tenantId, (tx) => applyPendingStatuses(tx, "wamid.e1"));

    expect(written).toBe(2);
    const statuses = eventsNamed(await outboxEvents(database.db, ids.tenantId), "message.status");
    expect(statuses.map((s) => [s.event.previousStatus, s.event.status])).toEqual([
      [MessageStatus.SENDING, MessageStatus.SENT],
      [MessageStatus.SENT, MessageStatus.READ],
    ]);
    expect(statuses[1]?.event).toMatchObject({ tenantId: ids.tenantId, accountId: account.id, wamid: "wamid.e1", metadata: { order: "A-17" } });
    expect(await messageByWamid(database.db, ids.tenantId, "wamid.e1")).toMatchObject({
      status: "read",
      sentTime: new Date(1_750_000_000_000),
      deliveredTime: new Date(1_750_000_100_000),
      readTime: new Date(1_750_000_200_000),
    });
    expect(await countRows(database.db, ids.tenantId, "pending_statuses")).toBe(0);
    // Applying again finds nothing.
    expect(await inTenant(database.db, ids.tenantId, (tx) => applyPendingStatuses(tx, "wamid.e1"))).toBe(0);
  });

  it("when a status arrives after the message is known, then it applies directly and nothing is kept", async () => {
    const ids = uniqueIds("late");
    const account = await createMetaAccount(database.db, ids);
    await insertOutboundMessage(database.db, ids.tenantId, account.id, { wamid: "wamid.l1" });
    await insertDelivery(database.db, statusDelivery(ids.phoneNumberId, "wamid.l1", "delivered", 1_750_000_100));
    await drain(createWorker(database.db));
    expect(await countRows(database.db, ids.tenantId, "pending_statuses")).toBe(0);
    expect(eventsNamed(await outboxEvents(database.db, ids.tenantId), "message.status")).toHaveLength(1);
  });
});
