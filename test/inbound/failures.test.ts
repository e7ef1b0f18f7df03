/**
 * A delivery is applied in one transaction with its inbox row: when
 * processing fails half-way nothing of it stays, and the row is tried again;
 * after maxAttempts it is marked failed. Rows left by a crashed worker are
 * claimed again once their lease runs out.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

import { eq, sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";

import { tenantSchemaName } from "../../src/adapters/postgres/db/tenant-scope.js";
import { webhookInbox } from "../../src/adapters/postgres/schema/control.js";
import { Wakeup } from "../../src/adapters/shared/wakeup.js";
import {
  batch,
  countRows,
  createInboundDatabase,
  createMetaAccount,
  createWorker,
  drain,
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
const CRASHING_WORKER = fileURLToPath(new URL("./support/crashing-worker.ts", import.meta.url));

beforeAll(async () => {
  database = await createInboundDatabase();
});

afterAll(async () => {
  await database?.cleanup();
});

function textDelivery(phoneNumberId: string, wamid: string, from = "972987654321"): Payload {
  const payload = metaFixture("pywa_message__text", { phoneNumberId });
  payload.entry[0]!.changes[0]!.value.messages = [{ from, id: wamid, timestamp: "1750000000", text: { body: wamid }, type: "text" }];
  return payload;
}

/** A trigger in the tenant's schema that runs `body` (PL/pgSQL) before each message insert whose wamid starts with `prefix`. */
async function addMessageTrigger(tenantId: string, name: string, prefix: string, body: string): Promise<() => Promise<void>> {
  const schema = tenantSchemaName(tenantId);
  await database.db.execute(
    sql.raw(`
      create function "${schema}".${name}() returns trigger language plpgsql as $$
      begin
        if new.wamid like '${prefix}%' then ${body} end if;
        return new;
      end $$;
      create trigger ${name} before insert on "${schema}".messages for each row execute function "${schema}".${name}();`),
  );
  return async () => {
    await database.db.execute(sql.raw(`drop trigger ${name} on "${schema}".messages; drop function "${schema}".${name}();`));
  };
}

describe("a delivery that fails half-way", () => {
  it("when the second message of a delivery fails, then nothing of the delivery stays, and the retry applies it whole", async () => {
    const ids = uniqueIds("halfway");
    await createMetaAccount(database.db, ids);
    const removeTrigger = await addMessageTrigger(ids.tenantId, "boom", "wamid.boom", "raise exception 'boom: storage refused the message';");
    const inboxId = await insertDelivery(database.db, batch(textDelivery(ids.phoneNumberId, "wamid.fine"), textDelivery(ids.phoneNumberId, "wamid.boom", "972900000001")));
    const worker = createWorker(database.db, { retryDelayMs: 1 });

    expect(await worker.runOnce()).toBe(1);

    // The first message, its contact and conversation were written before the failure: all rolled back.
    expect(await inboxRow(database.db, inboxId)).toMatchObject({ status: "pending", attempts: 1, lockedBy: null, error: expect.stringContaining("boom") });
    for (const table of ["contacts", "conversations", "messages"] as const) expect(await countRows(database.db, ids.tenantId, table)).toBe(0);
    expect(await outboxEvents(database.db, ids.tenantId)).toEqual([]);
    expect(worker.stats()).toMatchObject({ failedAttempts: 1, processed: 0 });

    await removeTrigger();
    await eventually("the delivery to be processed", async () => {
      await worker.runOnce();
      return (await inboxRow(database.db, inboxId)).status === "processed" ? true : undefined;
    });

    expect(await inboxRow(database.db, inboxId)).toMatchObject({ status: "processed", attempts: 2, error: null });
    expect(await countRows(database.db, ids.tenantId, "messages")).toBe(2);
    const events = await outboxEvents(database.db, ids.tenantId);
    expect(events.filter((e) => e.name === "message.received")).toHaveLength(2);
    expect(events.filter((e) => e.name === "contact.created")).toHaveLength(2);
  });

  it("when a delivery keeps failing, then after maxAttempts it is marked failed with the error and left alone", async () => {
    const ids = uniqueIds("poison");
    await createMetaAccount(database.db, ids);
    await addMessageTrigger(ids.tenantId, "poison", "wamid.", "raise exception 'poison message';");
    const inboxId = await insertDelivery(database.db, textDelivery(ids.phoneNumberId, "wamid.p1"));
    const healthy = uniqueIds("healthy");
    await createMetaAccount(database.db, healthy);
    const healthyId = await insertDelivery(database.db, textDelivery(healthy.phoneNumberId, "wamid.h1"));
    const worker = createWorker(database.db, { maxAttempts: 3, retryDelayMs: 1 });

    const failed = await eventually("the delivery to be failed", async () => {
      await worker.runOnce();
      const row = await inboxRow(database.db, inboxId);
      return row.status === "failed" ? row : undefined;
    });

    expect(failed).toMatchObject({ attempts: 3, lockedBy: null, lockedUntil: null, error: expect.stringContaining("poison message") });
    expect(failed.processedAt).toBeInstanceOf(Date);
    expect(worker.stats()).toMatchObject({ failedAttempts: 3, failed: 1 });
    expect(await countRows(database.db, ids.tenantId, "messages")).toBe(0);
    // Other deliveries were not held up by it.
    expect((await inboxRow(database.db, healthyId)).status).toBe("processed");
    expect(await worker.runOnce()).toBe(0);
  });
});

describe("crashes and leases", () => {
  it("when a worker process dies in the middle of a delivery, then nothing of it stays and another worker applies it once", async () => {
    const ids = uniqueIds("crash");
    await createMetaAccount(database.db, ids);
    // The test holds an advisory lock the trigger waits for: the dying
    // worker's transaction stops after writing the contact and conversation.
    const holder = postgres(database.testDatabase.url, { max: 1, onnotice: () => {} });
    await holder`select pg_advisory_lock(4242)`;
    const removeTrigger = await addMessageTrigger(ids.tenantId, "hold", "wamid.", "perform pg_advisory_xact_lock(4242);");
    const inboxId = await insertDelivery(database.db, textDelivery(ids.phoneNumberId, "wamid.c1"));

    const child = spawn(process.execPath, ["--import", "tsx", CRASHING_WORKER, database.testDatabase.url], { stdio: ["ignore", "ignore", "inherit"] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
    try {
      await eventually("the crashing worker to block mid-transaction", async () => {
        const [row] = await holder<{ pid: number }[]>`
          select pid from pg_stat_activity
           where wait_event_type = 'Lock' and wait_event = 'advisory' and query ilike ${"%insert into%messages%"}`;
        return row?.pid;
      }, { timeoutMs: 30_000 });
      expect(await inboxRow(database.db, inboxId)).toMatchObject({ status: "pending", lockedBy: "inbox-crashing", attempts: 1 });
    } finally {
      child.kill("SIGKILL");
    }
    expect(await exited).toBe("SIGKILL");
    await holder`select pg_advisory_unlock(4242)`;
    await holder.end();
    await removeTrigger();

    // Its writes died with its connection; its lease runs out and another worker takes the row.
    for (const table of ["contacts", "conversations", "messages"] as const) expect(await countRows(database.db, ids.tenantId, table)).toBe(0);
    const worker = createWorker(database.db);
    const row = await eventually("the delivery to be processed", async () => {
      await worker.runOnce();
      const current = await inboxRow(database.db, inboxId);
      return current.status === "processed" ? current : undefined;
    });
    expect(row.attempts).toBe(2);
    expect((await outboxEvents(database.db, ids.tenantId)).map((e) => e.name)).toEqual(["contact.created", "conversation.opened", "message.received"]);
  });

  it("when rows were left pending or leased by a worker that died, then a worker started later picks them up", async () => {
    const ids = uniqueIds("restart");
    await createMetaAccount(database.db, ids);
    const neverClaimed = await insertDelivery(database.db, textDelivery(ids.phoneNumberId, "wamid.r1"));
    const leaseExpired = await insertDelivery(database.db, textDelivery(ids.phoneNumberId, "wamid.r2"));
    await database.db
      .update(webhookInbox)
      .set({ lockedBy: "inbox-dead", lockedUntil: sql`now() - interval '1 second'`, attempts: 1 })
      .where(eq(webhookInbox.id, leaseExpired));
    const worker = createWorker(database.db, { pollIntervalMs: 50 });

    worker.start();
    try {
      await eventually("both stranded deliveries to be processed", async () => {
        const rows = await Promise.all([inboxRow(database.db, neverClaimed), inboxRow(database.db, leaseExpired)]);
        return rows.every((r) => r.status === "processed") ? rows : undefined;
      });
    } finally {
      await worker.stop();
    }
    expect((await inboxRow(database.db, leaseExpired)).attempts).toBe(2);
    expect(await countRows(database.db, ids.tenantId, "messages")).toBe(2);
  });

  it("when another worker holds a live lease on a row, then it is left to that worker", async () => {
    const ids = uniqueIds("leased");
    await createMetaAccount(database.db, ids);
    const leased = await insertDelivery(database.db, textDelivery(ids.phoneNumberId, "wamid.l1"));
    await database.db
      .update(webhookInbox)
      .set({ lockedBy: "inbox-other", lockedUntil: sql`now() + interval '1 hour'`, attempts: 1 })
      .where(eq(webhookInbox.id, leased));
    const worker = createWorker(database.db);
    await drain(worker);
    expect(await inboxRow(database.db, leased)).toMatchObject({ status: "pending", lockedBy: "inbox-other", attempts: 1 });
    expect(await countRows(database.db, ids.tenantId, "messages")).toBe(0);
  });
});

describe("the running worker", () => {
  it("when a delivery is committed and the inbox wake-up notified, then it is processed without waiting for the poll, and stop finishes cleanly", async () => {
    const ids = uniqueIds("wake");
    await createMetaAccount(database.db, ids);
    const wakeup = new Wakeup();
    let outboxNotified = 0;
    // A poll interval far longer than the test's deadline: only the wake-up can explain a prompt pick-up.
    const worker = createWorker(database.db, { wakeup, pollIntervalMs: 600_000, onEventsCommitted: () => outboxNotified++ });
    worker.start();
    try {
      const inboxId = await insertDelivery(database.db, textDelivery(ids.phoneNumberId, `wamid.${uuidv7()}`));
      wakeup.notify();
      await eventually("the delivery to be processed", async () => ((await inboxRow(database.db, inboxId)).status === "processed" ? true : undefined), { timeoutMs: 10_000 });
    } finally {
      await worker.stop();
    }
    expect(outboxNotified).toBe(1);
    expect(worker.stats()).toMatchObject({ processed: 1, events: 3 });
  });
});
