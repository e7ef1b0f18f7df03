/**
 * The worker stores runs of plain inbound messages set-wise (one statement
 * per step for the whole run, app/receive-inbound-messages.ts). The result
 * must be what applying the deliveries one by one gives: a repeated sender,
 * a repeated wamid or a reply to a message of the same batch end the run,
 * so each still sees the ones before it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { conversations, contacts } from "../../src/adapters/postgres/schema/tenant.js";
import {
  countRows,
  createInboundDatabase,
  createMetaAccount,
  createWorker,
  drain,
  eventsNamed,
  inTenant,
  insertDelivery,
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

function textDelivery(phoneNumberId: string, wamid: string, from: string, at: number, repliedTo?: string): Payload {
  const payload = metaFixture("pywa_message__text", { phoneNumberId });
  payload.entry[0]!.changes[0]!.value.contacts = [{ wa_id: from, profile: { name: `Name ${from} ${at}` } }];
  payload.entry[0]!.changes[0]!.value.messages = [
    { from, id: wamid, timestamp: String(at), text: { body: wamid }, type: "text", ...(repliedTo ? { context: { from, id: repliedTo } } : {}) },
  ];
  return payload;
}

describe("set-wise inbound messages", () => {
  it("when one transaction holds new senders, a repeated sender, a duplicate and a reply to a message of the same batch, then the result is the one-by-one result", async () => {
    const ids = uniqueIds("setwise");
    await createMetaAccount(database.db, ids);
    const at = 1_750_000_000;
    const deliveries = [
      textDelivery(ids.phoneNumberId, "wamid.a1", "972541000001", at),
      textDelivery(ids.phoneNumberId, "wamid.b1", "972541000002", at + 1),
      textDelivery(ids.phoneNumberId, "wamid.c1", "972541000003", at + 2),
      textDelivery(ids.phoneNumberId, "wamid.a2", "972541000001", at + 3),
      textDelivery(ids.phoneNumberId, "wamid.b1", "972541000002", at + 1),
      textDelivery(ids.phoneNumberId, "wamid.d1", "972541000004", at + 4, "wamid.c1"),
      textDelivery(ids.phoneNumberId, "wamid.a3", "972541000001", at + 5),
    ];
    for (const d of deliveries) await insertDelivery(database.db, d);
    await drain(createWorker(database.db, { concurrency: 1, batchSize: 16 }));

    const events = await outboxEvents(database.db, ids.tenantId);
    expect(eventsNamed(events, "contact.created")).toHaveLength(4);
    expect(eventsNamed(events, "conversation.opened")).toHaveLength(4);
    const received = eventsNamed(events, "message.received");
    expect(received.map((e) => e.event.wamid)).toEqual(["wamid.a1", "wamid.b1", "wamid.c1", "wamid.a2", "wamid.d1", "wamid.a3"]);
    // The reply names a message stored earlier in the same transaction: its id is filled in.
    const c1 = received.find((e) => e.event.wamid === "wamid.c1")!;
    const d1 = received.find((e) => e.event.wamid === "wamid.d1")!;
    expect(d1.event.message?.context).toMatchObject({ repliedToWamid: "wamid.c1", repliedToMessageId: c1.event.messageId });
    // Each conversation.opened carries the conversation after its first message was counted.
    for (const opened of eventsNamed(events, "conversation.opened")) {
      expect(opened.event.conversation).toMatchObject({ messageCount: 1n, inboundMessageCount: 1n });
    }

    expect(await countRows(database.db, ids.tenantId, "messages")).toBe(6);
    const rows = await inTenant(database.db, ids.tenantId, async (tx) => ({
      conversations: await tx.select().from(conversations),
      contacts: await tx.select().from(contacts),
    }));
    const countsByContact = new Map(rows.conversations.map((c) => [c.contactId, c.messageCount]));
    const contactA = rows.contacts.find((c) => c.waId === "972541000001")!;
    expect(countsByContact.get(contactA.id)).toBe(3);
    expect(contactA.profileName).toBe(`Name 972541000001 ${at + 5}`);
    expect(contactA.lastSeenTime).toEqual(new Date((at + 5) * 1000));
    expect(rows.conversations.find((c) => c.contactId === contactA.id)?.lastInboundTime).toEqual(new Date((at + 5) * 1000));
  });
});
