import { randomBytes } from "node:crypto";

import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { migrate, openDatabase, queryRows, type DatabaseHandle } from "../../src/adapters/postgres/index.js";
import { appendToOutbox } from "../../src/adapters/postgres/outbox/outbox.js";
import { adminUrl, createTestDatabase, type TestDatabase } from "../support/database.js";
import { startNatsServer, type NatsTestServer } from "../support/nats-server.js";
import { receivedEvent, startRelay, testStream, unpublishedCount, type RunningRelay } from "./relay-harness.js";
import { eventually } from "../kit/eventually.js";

// One nats-server and one database for the file: its tests tell their events
// apart by tenant (subject `whatsapp.<tenant>.…`), since one server can hold
// only one stream on `whatsapp.>`.
let nats: NatsTestServer;
let database: TestDatabase;
let reader: DatabaseHandle;
const stream = testStream(`RELAY_${randomBytes(3).toString("hex")}`);
const relays: RunningRelay[] = [];

beforeAll(async () => {
  [nats, database] = await Promise.all([startNatsServer(), createTestDatabase("nats_relay")]);
  reader = await openDatabase({ databaseUrl: database.url, dataDir: "unused" });
  await migrate(reader.db);
});

afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.stop()));
});

afterAll(async () => {
  await reader?.close();
  await Promise.all([nats?.cleanup(), database?.drop()]);
});

async function relay(): Promise<RunningRelay> {
  const running = await startRelay({ databaseUrl: database.url, natsUrl: nats.url, stream });
  relays.push(running);
  return running;
}

function tenant(label: string): string {
  return `${label}-${randomBytes(4).toString("hex")}`;
}

async function eventsOf(tenantId: string, count: number) {
  return eventually(`${count} events of ${tenantId} on the stream`, async () => {
    const events = await nats.collectEvents(stream.name, `whatsapp.${tenantId}.>`);
    return events.length >= count ? events : undefined;
  }, { retryErrors: true });
}

describe("outbox relay", () => {
  it("when events are appended in a transaction, then each is published once with its subject, headers and payload, and marked published", async () => {
    const running = await relay();
    const tenantId = tenant("acme");
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const appended = [receivedEvent(tenantId, 1, traceparent), receivedEvent(tenantId, 2), receivedEvent(tenantId, 3)];
    await running.append(appended);

    const events = await eventsOf(tenantId, 3);
    await eventually("rows marked published", async () => ((await unpublishedCount(reader, tenantId)) === 0 ? true : undefined), { retryErrors: true });

    expect(events.map((e) => e.msgId)).toEqual(appended.map((e) => e.id));
    for (const [i, event] of events.entries()) {
      expect(event.subject).toBe(`whatsapp.${tenantId}.message.received`);
      expect(event.contentType).toBe("application/protobuf");
      expect(event.eventType).toBe("message.received");
      expect(Buffer.from(event.payload).equals(Buffer.from(appended[i]!.payload))).toBe(true);
      expect(event.event?.type).toBe("message.received");
      if (event.event?.type === "message.received") {
        expect(event.event.message.eventId).toBe(appended[i]!.id);
        expect(event.event.message.tenantId).toBe(tenantId);
        expect(event.event.message.content).toBe(`hello ${i + 1}`);
      }
    }
    expect(events[0]?.traceparent).toBe(traceparent);
    expect(events[1]?.traceparent).toBeUndefined();
  });

  it("when the transaction that appended events rolls back, then they are never published", async () => {
    const running = await relay();
    const tenantId = tenant("rollback");
    const doomed = receivedEvent(tenantId, 1);
    await expect(
      running.db.db.transaction(async (tx) => {
        await appendToOutbox(tx, [doomed]);
        throw new Error("the state change failed");
      }),
    ).rejects.toThrow("the state change failed");
    const kept = receivedEvent(tenantId, 2);
    await running.append([kept]);

    // The later, committed event is out: the relay has looked past the doomed one.
    const events = await eventsOf(tenantId, 1);
    expect(events.map((e) => e.msgId)).toEqual([kept.id]);
  });

  it("when a lower seq commits after a higher one was published, then it is still published (no high-water mark)", async () => {
    const running = await relay();
    const tenantId = tenant("late");
    const early = receivedEvent(tenantId, 1);
    const late = receivedEvent(tenantId, 2);

    // A separate connection holds a transaction open with the lower seq…
    const slow = await openDatabase({ databaseUrl: database.url, dataDir: "unused" });
    try {
      let inserted = false;
      let commitSlow: () => void = () => {};
      const slowCommitted = slow.db.transaction(async (tx) => {
        await appendToOutbox(tx, [early]);
        inserted = true;
        await new Promise<void>((resolve) => (commitSlow = resolve));
      });
      await eventually("the slow transaction to take its seq", async () => (inserted ? true : undefined), { retryErrors: true });
      // …while a higher seq commits and is published.
      await running.append([late]);
      await eventsOf(tenantId, 1);

      commitSlow();
      await slowCommitted;
      running.wakeup.notify();
      const events = await eventsOf(tenantId, 2);
      expect(events.map((e) => e.msgId)).toEqual([late.id, early.id]);
      const seqs = await queryRows<{ id: string; seq: number }>(reader.db, sql`select id, seq from control.outbox where tenant_id = ${tenantId} order by seq`);
      expect(seqs.map((r) => r.id)).toEqual([early.id, late.id]);
    } finally {
      await slow.close();
    }
  });

  it("when two relays run at once, then one leads and every event is on the stream once, in seq order", async () => {
    const [first, second] = [await relay(), await relay()];
    await eventually("a leader", async () => (first.relay.leading || second.relay.leading ? true : undefined), { retryErrors: true });
    const tenantId = tenant("pair");
    const appended = Array.from({ length: 300 }, (_, i) => receivedEvent(tenantId, i));
    // Both write, in many small transactions, as two replicas taking webhooks would.
    for (let i = 0; i < appended.length; i += 10) {
      const writer = (i / 10) % 2 === 0 ? first : second;
      await writer.append(appended.slice(i, i + 10));
    }

    const events = await eventsOf(tenantId, appended.length);
    expect(first.relay.leading && second.relay.leading).toBe(false);
    expect(events).toHaveLength(appended.length);
    const rows = await queryRows<{ id: string }>(reader.db, sql`select id from control.outbox where tenant_id = ${tenantId} order by seq`);
    expect(events.map((e) => e.msgId)).toEqual(rows.map((r) => r.id));
  });

  it("when the leader's database session dies, then leadership passes on and nothing is published twice", async () => {
    const [first, second] = [await relay(), await relay()];
    const leader = await eventually("a leader", async () => (first.relay.leading ? first : second.relay.leading ? second : undefined), { retryErrors: true });
    const follower = leader === first ? second : first;
    const tenantId = tenant("failover");
    await leader.append([receivedEvent(tenantId, 0)]);
    await eventsOf(tenantId, 1);

    // Kill the leader's lock session from outside, as a network cut or a DBA would.
    await terminateLeaderLockSession();
    await eventually("the deposed leader to notice", async () => (leader.logger.count("warn", "lost the leader lock") > 0 ? true : undefined), { retryErrors: true });
    // A relay that lost its lock stands down for a while, so the follower normally wins; either may lead next.
    await eventually("a leader again", async () => (first.relay.leading || second.relay.leading ? true : undefined), { retryErrors: true });
    const writer = follower;

    const more = Array.from({ length: 50 }, (_, i) => receivedEvent(tenantId, i + 1));
    await writer.append(more);
    const events = await eventsOf(tenantId, 51);
    expect(new Set(events.map((e) => e.msgId)).size).toBe(51);
    // Rows are marked after JetStream's ack, so the stream can be ahead of the marks for a moment.
    await eventually("every row marked published", async () => ((await unpublishedCount(reader, tenantId)) === 0 ? true : undefined), { retryErrors: true });
  });
});

async function terminateLeaderLockSession(): Promise<void> {
  const admin = await openDatabase({ databaseUrl: adminUrl(), dataDir: "unused" });
  try {
    const killed = await queryRows<{ done: boolean }>(
      admin.db,
      sql`select pg_terminate_backend(a.pid) as done
            from pg_stat_activity a join pg_locks l on l.pid = a.pid
           where a.datname = ${database.name} and l.locktype = 'advisory' and l.granted`,
    );
    expect(killed.length).toBe(1);
  } finally {
    await admin.close();
  }
}
