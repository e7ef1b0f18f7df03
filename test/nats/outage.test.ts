import { randomBytes } from "node:crypto";

import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { migrate, openDatabase, queryRows, type DatabaseHandle } from "../../src/adapters/postgres/index.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { startNatsServer, type NatsTestServer } from "../support/nats-server.js";
import { receivedEvent, startRelay, testStream, unpublishedCount, type RunningRelay } from "./relay-harness.js";
import { eventually } from "../kit/eventually.js";

let nats: NatsTestServer;
let database: TestDatabase;
let reader: DatabaseHandle;
let running: RunningRelay;
const stream = testStream(`OUTAGE_${randomBytes(3).toString("hex")}`);

beforeAll(async () => {
  [nats, database] = await Promise.all([startNatsServer(), createTestDatabase("nats_outage")]);
  reader = await openDatabase({ databaseUrl: database.url, dataDir: "unused" });
  await migrate(reader.db);
  running = await startRelay({ databaseUrl: database.url, natsUrl: nats.url, stream, relay: { batchSize: 50 } });
});

afterAll(async () => {
  await running?.stop();
  await reader?.close();
  await Promise.all([nats?.cleanup(), database?.drop()]);
});

async function streamMessageCount(): Promise<number> {
  const nc = await connect({ servers: nats.url });
  try {
    const info = await (await jetstreamManager(nc)).streams.info(stream.name);
    return info.state.messages;
  } finally {
    await nc.close();
  }
}

describe("outbox relay across a NATS outage", () => {
  it("when NATS is killed mid-run and restarted, then the stream holds each of 1,000 events exactly once, in commit order, and every row is marked", async () => {
    const tenantId = `outage-${randomBytes(4).toString("hex")}`;
    const events = Array.from({ length: 1_000 }, (_, i) => receivedEvent(tenantId, i));
    const appendRange = async (from: number, to: number) => {
      for (let i = from; i < to; i += 5) await running.append(events.slice(i, i + 5));
    };

    // Before: the relay is publishing as events arrive…
    await appendRange(0, 400);
    await eventually("some events published before the outage", async () => ((await unpublishedCount(reader, tenantId)) < 400 ? true : undefined), { retryErrors: true });
    // …NATS dies abruptly, probably with publishes in flight…
    await nats.stop();
    await appendRange(400, 700);
    await eventually("the relay to notice the outage", async () => (running.nats.state !== "connected" ? true : undefined), { retryErrors: true });
    expect(await unpublishedCount(reader, tenantId)).toBeGreaterThan(0);

    // …and comes back on the same port with the same store.
    await nats.start();
    await appendRange(700, 1_000);

    await eventually("every row marked published", async () => ((await unpublishedCount(reader, tenantId)) === 0 ? true : undefined), { timeoutMs: 30_000, retryErrors: true });
    const onStream = await nats.collectEvents(stream.name, `whatsapp.${tenantId}.>`);
    expect(onStream).toHaveLength(1_000);
    expect(await streamMessageCount()).toBe(1_000);
    expect(new Set(onStream.map((e) => e.msgId)).size).toBe(1_000);
    const bySeq = await queryRows<{ id: string }>(reader.db, sql`select id from control.outbox where tenant_id = ${tenantId} order by seq`);
    expect(onStream.map((e) => e.msgId)).toEqual(bySeq.map((r) => r.id));

    // One line when the connection went, one when it came back: not one per event or per retry.
    expect(running.logger.count("warn", "NATS connection lost")).toBe(1);
    expect(running.logger.count("info", "NATS reconnected")).toBe(1);
    expect(running.logger.count("warn", "publishing outbox events failed")).toBeLessThanOrEqual(1);
  });

  it("when NATS is down as the relay starts, then events wait in the outbox and go out once it is reachable", async () => {
    await nats.stop();
    const late = await startRelay({ databaseUrl: database.url, natsUrl: nats.url, stream });
    try {
      await running.stop(); // only the new relay competes for the lock now
      await eventually("the new relay to lead", async () => (late.relay.leading ? true : undefined), { retryErrors: true });
      const tenantId = `down-${randomBytes(4).toString("hex")}`;
      const events = Array.from({ length: 10 }, (_, i) => receivedEvent(tenantId, i));
      await late.append(events);
      expect(late.nats.state).toBe("connecting");
      expect(await unpublishedCount(reader, tenantId)).toBe(10);

      await nats.start();
      await eventually("every row marked published", async () => ((await unpublishedCount(reader, tenantId)) === 0 ? true : undefined), { retryErrors: true });
      const onStream = await nats.collectEvents(stream.name, `whatsapp.${tenantId}.>`);
      expect(onStream.map((e) => e.msgId)).toEqual(events.map((e) => e.id));
      expect(late.logger.count("warn", "NATS is not reachable")).toBe(1);
    } finally {
      await late.stop();
    }
  });
});
