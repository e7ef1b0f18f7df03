/**
 * WhatsApp usernames (ADR 0007): a user who hides their number is named only
 * by a business-scoped user id (BSUID). Their messages are stored and
 * published like any other; a contact known by BSUID, by phone, or both is
 * one contact, whatever order the identifiers arrive in and however many
 * workers race on the first deliveries.
 */
import { asc, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { InboxWorker } from "../../src/workers/inbox-worker.js";
import { PostgresInboundStore } from "../../src/adapters/postgres/inbox/inbound-store.js";
import type { ContactProfile } from "../../src/domain/inbound.js";
import { v7 as uuidv7 } from "uuid";
import { webhookInbox } from "../../src/adapters/postgres/schema/control.js";
import { contacts, conversations, messages } from "../../src/adapters/postgres/schema/tenant.js";
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
import { eventually } from "../kit/eventually.js";

let database: InboundDatabase;

beforeAll(async () => {
  database = await createInboundDatabase();
});

afterAll(async () => {
  await database?.cleanup();
});

const BSUID = "US.13491208655302741918";
const PARENT = "US.ENT.11815799212886844830";
const WA_ID = "972987654321";

/** A text message naming the sender by BSUID only (no `wa_id`, no `from`), as Meta sends a username adopter's. */
function bsuidOnly(phoneNumberId: string, wamid: string, at: number, options: { bsuid?: string; username?: string } = {}): Payload {
  const bsuid = options.bsuid ?? BSUID;
  const payload = metaFixture("pywa_message__text", { phoneNumberId });
  const value = payload.entry[0]!.changes[0]!.value;
  value.contacts = [{ profile: { name: "Hidden", username: options.username ?? "hidden.user" }, user_id: bsuid, parent_user_id: PARENT }];
  value.messages = [{ from_user_id: bsuid, id: wamid, timestamp: String(at), type: "text", text: { body: wamid } }];
  return payload;
}

/** The same user with phone and BSUID together (a recent interaction lets Meta show the number). */
function phoneAndBsuid(phoneNumberId: string, wamid: string, at: number, options: { waId?: string; bsuid?: string } = {}): Payload {
  const waId = options.waId ?? WA_ID;
  const bsuid = options.bsuid ?? BSUID;
  const payload = metaFixture("pywa_message__text", { phoneNumberId });
  const value = payload.entry[0]!.changes[0]!.value;
  value.contacts = [{ profile: { name: "Known" }, wa_id: waId, user_id: bsuid }];
  value.messages = [{ from: waId, from_user_id: bsuid, id: wamid, timestamp: String(at), type: "text", text: { body: wamid } }];
  return payload;
}

/** The user by phone only (before Meta sent BSUIDs). */
function phoneOnly(phoneNumberId: string, wamid: string, at: number, waId = WA_ID): Payload {
  const payload = metaFixture("pywa_message__text", { phoneNumberId });
  const value = payload.entry[0]!.changes[0]!.value;
  value.contacts = [{ profile: { name: "Old" }, wa_id: waId }];
  value.messages = [{ from: waId, id: wamid, timestamp: String(at), type: "text", text: { body: wamid } }];
  return payload;
}

const allContacts = (tenantId: string) => inTenant(database.db, tenantId, (tx) => tx.select().from(contacts));

describe("a message from a user known only by BSUID", () => {
  it("when it arrives twice with no wa_id and no from, then it is stored once, opens a conversation for a BSUID-only contact and publishes one message.received with the BSUID", async () => {
    const ids = uniqueIds("bsuid1");
    await createMetaAccount(database.db, ids);
    await insertDelivery(database.db, bsuidOnly(ids.phoneNumberId, "wamid.b1", 1_750_000_000));
    await insertDelivery(database.db, bsuidOnly(ids.phoneNumberId, "wamid.b1", 1_750_000_000));
    await drain(createWorker(database.db));

    expect(await countRows(database.db, ids.tenantId, "messages")).toBe(1);
    const [contact, ...others] = await allContacts(ids.tenantId);
    expect(others).toHaveLength(0);
    expect(contact).toMatchObject({ waId: null, phoneE164: null, bsuid: BSUID, parentBsuid: PARENT, username: "hidden.user", profileName: "Hidden" });
    const [conversation] = await inTenant(database.db, ids.tenantId, (tx) => tx.select().from(conversations));
    expect(conversation).toMatchObject({ contactId: contact!.id, status: "active", inboundMessageCount: 1, lastInboundTime: new Date(1_750_000_000_000) });

    const events = await outboxEvents(database.db, ids.tenantId);
    expect(events.map((e) => e.name)).toEqual(["contact.created", "conversation.opened", "message.received"]);
    const [received] = eventsNamed(events, "message.received");
    expect(received?.event.message).toMatchObject({ wamid: "wamid.b1", from: "", waId: "", fromUserId: BSUID });
    expect(received?.event.contact).toMatchObject({ id: contact!.id, waId: "", phone: "", userId: BSUID, parentUserId: PARENT, username: "hidden.user" });
  });

  it("when the username changes, then the contact keeps its id and takes the new username", async () => {
    const ids = uniqueIds("bsuiduser");
    await createMetaAccount(database.db, ids);
    await insertDelivery(database.db, bsuidOnly(ids.phoneNumberId, "wamid.u1", 1_750_000_000, { username: "first" }));
    await insertDelivery(database.db, bsuidOnly(ids.phoneNumberId, "wamid.u2", 1_750_000_100, { username: "second" }));
    await drain(createWorker(database.db));
    const rows = await allContacts(ids.tenantId);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.username).toBe("second");
  });
});

describe("linking phone and BSUID", () => {
  async function expectOneContactWithBoth(tenantId: string, wamids: string[]): Promise<void> {
    const rows = await allContacts(tenantId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ waId: WA_ID, phoneE164: `+${WA_ID}`, bsuid: BSUID });
    const stored = await inTenant(database.db, tenantId, (tx) => tx.select().from(messages).where(inArray(messages.wamid, wamids)));
    expect(stored).toHaveLength(wamids.length);
    expect(new Set(stored.map((m) => m.contactId))).toEqual(new Set([rows[0]!.id]));
    expect(new Set(stored.map((m) => m.conversationId)).size).toBe(1);
    expect(await countRows(database.db, tenantId, "conversations")).toBe(1);
    expect(eventsNamed(await outboxEvents(database.db, tenantId), "contact.created")).toHaveLength(1);
  }

  it("when the user first writes by BSUID only and later with phone and BSUID, then one contact has both and one conversation holds both messages", async () => {
    const ids = uniqueIds("link1");
    await createMetaAccount(database.db, ids);
    await insertDelivery(database.db, bsuidOnly(ids.phoneNumberId, "wamid.l1", 1_750_000_000));
    const worker = createWorker(database.db);
    await drain(worker);
    await insertDelivery(database.db, phoneAndBsuid(ids.phoneNumberId, "wamid.l2", 1_750_000_100));
    await drain(worker);
    await expectOneContactWithBoth(ids.tenantId, ["wamid.l1", "wamid.l2"]);
  });

  it("when the user first writes with phone and BSUID and later by BSUID only, then the later message lands on the same contact", async () => {
    const ids = uniqueIds("link2");
    await createMetaAccount(database.db, ids);
    await insertDelivery(database.db, phoneAndBsuid(ids.phoneNumberId, "wamid.r1", 1_750_000_000));
    const worker = createWorker(database.db);
    await drain(worker);
    await insertDelivery(database.db, bsuidOnly(ids.phoneNumberId, "wamid.r2", 1_750_000_100));
    await drain(worker);
    await expectOneContactWithBoth(ids.tenantId, ["wamid.r1", "wamid.r2"]);
  });

  it("when a contact known by phone and another known by BSUID are named together, then they merge into one contact keeping both histories", async () => {
    const ids = uniqueIds("merge");
    await createMetaAccount(database.db, ids);
    const worker = createWorker(database.db);
    await insertDelivery(database.db, phoneOnly(ids.phoneNumberId, "wamid.m1", 1_750_000_000));
    await drain(worker);
    await insertDelivery(database.db, bsuidOnly(ids.phoneNumberId, "wamid.m2", 1_750_000_100));
    await drain(worker);
    expect(await allContacts(ids.tenantId)).toHaveLength(2);
    const [byPhone] = await inTenant(database.db, ids.tenantId, (tx) => tx.select().from(contacts).where(eq(contacts.waId, WA_ID)));

    await insertDelivery(database.db, phoneAndBsuid(ids.phoneNumberId, "wamid.m3", 1_750_000_200));
    await drain(worker);

    const rows = await allContacts(ids.tenantId);
    expect(rows).toHaveLength(1);
    // The contact seen first survives, with both identifiers and the username the BSUID one had.
    expect(rows[0]).toMatchObject({ id: byPhone!.id, waId: WA_ID, bsuid: BSUID, username: "hidden.user" });
    const stored = await inTenant(database.db, ids.tenantId, (tx) => tx.select().from(messages).orderBy(asc(messages.createTime)));
    expect(stored.map((m) => m.wamid)).toEqual(["wamid.m1", "wamid.m2", "wamid.m3"]);
    expect(new Set(stored.map((m) => m.contactId))).toEqual(new Set([byPhone!.id]));
    const convs = await inTenant(database.db, ids.tenantId, (tx) => tx.select().from(conversations));
    expect(convs.every((c) => c.contactId === byPhone!.id)).toBe(true);
    // One open conversation per contact: the absorbed contact's is closed as merged, its messages kept.
    expect(convs.filter((c) => c.status !== "closed")).toHaveLength(1);
    expect(convs.filter((c) => c.closeReason === "merged")).toHaveLength(1);
  });

  it("when a number-change notice arrives, then the contact takes the new number and the new number's messages land on it", async () => {
    const ids = uniqueIds("renumber");
    await createMetaAccount(database.db, ids);
    const worker = createWorker(database.db);
    await insertDelivery(database.db, phoneAndBsuid(ids.phoneNumberId, "wamid.n1", 1_750_000_000));
    await drain(worker);
    const notice = metaFixture("pywa_system__phone_number_change", ids);
    const value = notice.entry[0]!.changes[0]!.value;
    value.messages = [
      {
        from: WA_ID,
        id: "wamid.n2",
        timestamp: "1750000100",
        type: "system",
        system: { body: "changed", wa_id: "972912345678", user_id: "US.999", type: "user_changed_number" },
      },
    ];
    await insertDelivery(database.db, notice);
    await drain(worker);
    await insertDelivery(database.db, phoneAndBsuid(ids.phoneNumberId, "wamid.n3", 1_750_000_200, { waId: "972912345678", bsuid: "US.999" }));
    await drain(worker);

    const rows = await allContacts(ids.tenantId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ waId: "972912345678", phoneE164: "+972912345678", bsuid: "US.999" });
    const stored = await inTenant(database.db, ids.tenantId, (tx) => tx.select().from(messages));
    expect(stored).toHaveLength(3);
    expect(new Set(stored.map((m) => m.contactId))).toEqual(new Set([rows[0]!.id]));
  });
});

describe("concurrent first deliveries", () => {
  it("when many first deliveries of both shapes for one user are processed by two workers on two pools at once, then one contact exists", async () => {
    const ids = uniqueIds("race");
    await createMetaAccount(database.db, ids);
    // Several users, each with BSUID-only and phone+BSUID deliveries interleaved.
    const users = Array.from({ length: 6 }, (_, i) => ({ waId: `97253000${String(i).padStart(4, "0")}`, bsuid: `US.7700${i}` }));
    const inboxIds: string[] = [];
    for (let round = 0; round < 4; round++) {
      for (const [u, user] of users.entries()) {
        const wamid = `wamid.race.${u}.${round}`;
        const at = 1_750_000_000 + round;
        inboxIds.push(
          await insertDelivery(
            database.db,
            (round + u) % 2 === 0 ? bsuidOnly(ids.phoneNumberId, wamid, at, { bsuid: user.bsuid }) : phoneAndBsuid(ids.phoneNumberId, wamid, at, user),
          ),
        );
      }
    }
    const workers: InboxWorker[] = [];
    for (let i = 0; i < 2; i++) {
      const handle = i === 0 ? database.handle : await database.openAnotherHandle();
      workers.push(createWorker(handle.db, { workerId: `bsuid-${i}`, pollIntervalMs: 20, concurrency: 4 }));
    }
    for (const worker of workers) worker.start();
    try {
      await eventually(
        "the racing deliveries",
        async () => {
          const rows = await database.db.select({ status: webhookInbox.status }).from(webhookInbox).where(inArray(webhookInbox.id, inboxIds));
          return rows.length === inboxIds.length && rows.every((r) => r.status === "processed") ? true : undefined;
        },
        { timeoutMs: 60_000 },
      );
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }

    const rows = await allContacts(ids.tenantId);
    expect(rows).toHaveLength(users.length);
    for (const user of users) expect(rows.filter((r) => r.bsuid === user.bsuid)).toMatchObject([{ waId: user.waId }]);
    expect(await countRows(database.db, ids.tenantId, "messages")).toBe(inboxIds.length);
    expect(await countRows(database.db, ids.tenantId, "conversations")).toBe(users.length);
    expect(eventsNamed(await outboxEvents(database.db, ids.tenantId), "contact.created")).toHaveLength(users.length);
  });
});

describe("find-or-link in parallel transactions", () => {
  it("when eight transactions on four pools link the same user at once, some by BSUID only and some by phone and BSUID, then one contact has both and exactly one transaction created it", async () => {
    const ids = uniqueIds("parallel");
    await createMetaAccount(database.db, ids);
    // The tenant schema exists once the first delivery is processed.
    await insertDelivery(database.db, phoneOnly(ids.phoneNumberId, "wamid.p0", 1_750_000_000, "972500000001"));
    await drain(createWorker(database.db));
    const handles = [database.handle, ...(await Promise.all([1, 2, 3].map(() => database.openAnotherHandle())))];
    const bsuid = "US.880011";
    const profiles: ContactProfile[] = Array.from({ length: 8 }, (_, i) =>
      i % 2 === 0 ? { waId: "", userId: bsuid, username: "racer" } : { waId: "972500000999", userId: bsuid, profileName: "Racer" },
    );
    // One transaction per pool at a time, all four released together once each has begun: the
    // find-or-link statements of the four really overlap.
    const results: { contact: { id: string }; created: boolean }[][] = [];
    for (let wave = 0; wave < profiles.length / handles.length; wave++) {
      let begun = 0;
      let release!: () => void;
      const allBegun = new Promise<void>((resolve) => (release = resolve));
      const wavePromises = handles.map((handle, h) => {
        const i = wave * handles.length + h;
        return handle.db.transaction((tx) =>
          new PostgresInboundStore(tx, { inboxId: uuidv7(), newId: () => uuidv7() }).inTenant(ids.tenantId, async (tenant) => {
            await tenant.messageIdByWamid("wamid.none");
            if (++begun === handles.length) release();
            await allBegun;
            return tenant.upsertContacts([{ profile: profiles[i]!, seenAt: new Date(1_750_000_100_000 + i) }]);
          }),
        );
      });
      results.push(...(await Promise.all(wavePromises)));
    }

    const rows = (await allContacts(ids.tenantId)).filter((c) => c.bsuid === bsuid || c.waId === "972500000999");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ waId: "972500000999", bsuid, username: "racer", profileName: "Racer" });
    expect(new Set(results.map(([r]) => r!.contact.id))).toEqual(new Set([rows[0]!.id]));
    expect(results.filter(([r]) => r!.created)).toHaveLength(1);
  });
});
