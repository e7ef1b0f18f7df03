/**
 * The worker applies several deliveries per transaction (inbox-batches.ts):
 * they commit together, a poison delivery among them is retried and failed
 * alone while the others commit, and one sender's deliveries stay in arrival
 * order.
 */
import { inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { planBatches } from "../../src/workers/inbox-batches.js";
import { queryRows } from "../../src/adapters/postgres/db/database.js";
import { webhookInbox } from "../../src/adapters/postgres/schema/control.js";
import { tenantSchemaName } from "../../src/adapters/postgres/db/tenant-scope.js";
import {
  countRows,
  createInboundDatabase,
  createMetaAccount,
  createWorker,
  eventsNamed,
  inboxRow,
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

function textDelivery(phoneNumberId: string, wamid: string, from: string, at = 1_750_000_000): Payload {
  const payload = metaFixture("pywa_message__text", { phoneNumberId });
  payload.entry[0]!.changes[0]!.value.messages = [{ from, id: wamid, timestamp: String(at), text: { body: wamid }, type: "text" }];
  return payload;
}

/** The transaction that last wrote each row (rows one transaction updated share it). */
async function writingTransactions(ids: string[]): Promise<Set<string>> {
  const rows = await queryRows<{ xmin: string }>(database.db, sql`select xmin::text as xmin from ${webhookInbox} where id in (${sql.join(ids.map((id) => sql`${id}::uuid`), sql`, `)})`);
  return new Set(rows.map((r) => r.xmin));
}

describe("several deliveries per transaction", () => {
  it("when one claim takes ten deliveries of different senders, then one transaction applies and marks them all", async () => {
    const ids = uniqueIds("onetx");
    await createMetaAccount(database.db, ids);
    const inboxIds: string[] = [];
    for (let i = 0; i < 10; i++) inboxIds.push(await insertDelivery(database.db, textDelivery(ids.phoneNumberId, `wamid.tx${i}`, `97254000${i}`)));
    const worker = createWorker(database.db, { concurrency: 1, batchSize: 16 });

    expect(await worker.runOnce()).toBe(10);

    const rows = await database.db.select().from(webhookInbox).where(inArray(webhookInbox.id, inboxIds));
    expect(rows.every((r) => r.status === "processed" && r.attempts === 1)).toBe(true);
    expect((await writingTransactions(inboxIds)).size).toBe(1);
    expect(eventsNamed(await outboxEvents(database.db, ids.tenantId), "message.received")).toHaveLength(10);
    expect(worker.stats()).toMatchObject({ processed: 10, events: 30, failedAttempts: 0 });
  });

  it("when a poison delivery is among good ones, then the good ones commit and the poison one is retried and failed alone", async () => {
    const ids = uniqueIds("poisonbatch");
    await createMetaAccount(database.db, ids);
    const schema = tenantSchemaName(ids.tenantId);
    await database.db.execute(
      sql.raw(`
        create function "${schema}".poison() returns trigger language plpgsql as $$
        begin
          if new.wamid like 'wamid.poison%' then raise exception 'poison message'; end if;
          return new;
        end $$;
        create trigger poison before insert on "${schema}".messages for each row execute function "${schema}".poison();`),
    );
    const good: string[] = [];
    for (let i = 0; i < 3; i++) good.push(await insertDelivery(database.db, textDelivery(ids.phoneNumberId, `wamid.good${i}`, `97254100${i}`)));
    const poison = await insertDelivery(database.db, textDelivery(ids.phoneNumberId, "wamid.poison", "972541009"));
    for (let i = 3; i < 6; i++) good.push(await insertDelivery(database.db, textDelivery(ids.phoneNumberId, `wamid.good${i}`, `97254100${i}`)));
    const worker = createWorker(database.db, { concurrency: 1, batchSize: 16, maxAttempts: 2, retryDelayMs: 1 });

    expect(await worker.runOnce()).toBe(7);

    const goodRows = await database.db.select().from(webhookInbox).where(inArray(webhookInbox.id, good));
    expect(goodRows.map((r) => [r.status, r.attempts])).toEqual(good.map(() => ["processed", 1]));
    expect(await inboxRow(database.db, poison)).toMatchObject({ status: "pending", attempts: 1, lockedBy: null, error: expect.stringContaining("poison message") });
    expect(await countRows(database.db, ids.tenantId, "messages")).toBe(6);
    expect(worker.stats()).toMatchObject({ processed: 6, failedAttempts: 1, failed: 0 });

    const failed = await eventually("the poison delivery to be failed", async () => {
      await worker.runOnce();
      const row = await inboxRow(database.db, poison);
      return row.status === "failed" ? row : undefined;
    });
    expect(failed).toMatchObject({ attempts: 2, error: expect.stringContaining("poison message") });
    expect(worker.stats()).toMatchObject({ processed: 6, failedAttempts: 2, failed: 1 });
    // The good deliveries were applied once, and only once.
    expect(eventsNamed(await outboxEvents(database.db, ids.tenantId), "message.received")).toHaveLength(6);
  });

  it("when one sender's messages are claimed with others, then they are applied in arrival order in one transaction", async () => {
    const ids = uniqueIds("order");
    await createMetaAccount(database.db, ids);
    const sameSender: string[] = [];
    for (let i = 0; i < 6; i++) {
      sameSender.push(await insertDelivery(database.db, textDelivery(ids.phoneNumberId, `wamid.same${i}`, "972542000000", 1_750_000_000 + i)));
      await insertDelivery(database.db, textDelivery(ids.phoneNumberId, `wamid.other${i}`, `97254300${i}`));
    }
    await createWorker(database.db, { concurrency: 4, batchSize: 16 }).runOnce();

    expect((await writingTransactions(sameSender)).size).toBe(1);
    const received = eventsNamed(await outboxEvents(database.db, ids.tenantId), "message.received")
      .map((e) => e.event.wamid)
      .filter((w) => w.startsWith("wamid.same"));
    expect(received).toEqual(sameSender.map((_, i) => `wamid.same${i}`));
  });
});

describe("planBatches", () => {
  const keys = (item: { keys: string[] }) => item.keys;

  it("when items share a key, even through a third item, then they land in one group in their original order", () => {
    const items = [
      { n: 0, keys: ["a"] },
      { n: 1, keys: ["b"] },
      { n: 2, keys: ["c", "a"] },
      { n: 3, keys: ["d"] },
      { n: 4, keys: ["c"] },
    ];
    const groups = planBatches(items, keys, 4).map((g) => g.map((i) => i.n));
    expect(groups).toContainEqual([0, 2, 4]);
    expect(groups.flat().sort()).toEqual([0, 1, 2, 3, 4]);
    expect(groups).toHaveLength(3);
  });

  it("when there are more independent items than lanes, then they are spread evenly over the lanes", () => {
    const items = Array.from({ length: 10 }, (_, n) => ({ n, keys: [`k${n}`] }));
    const sizes = planBatches(items, keys, 4).map((g) => g.length);
    expect(sizes.sort()).toEqual([2, 2, 3, 3]);
  });
});
