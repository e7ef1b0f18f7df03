import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { openNatsConnection, type NatsLink } from "../../src/adapters/nats/connection.js";
import { createOutboxRelay, type OutboxRelay } from "../../src/adapters/nats/outbox-relay.js";
import { migrate, openDatabase, type DatabaseHandle } from "../../src/adapters/postgres/index.js";
import { inProcessLeaderLock, LeaderRole } from "../../src/adapters/postgres/db/leader-lock.js";
import { appendToOutbox } from "../../src/adapters/postgres/outbox/outbox.js";
import { Wakeup } from "../../src/adapters/shared/wakeup.js";
import { startNatsServer, type NatsTestServer } from "../support/nats-server.js";
import { receivedEvent, RecordingLogger, testStream, unpublishedCount } from "./relay-harness.js";
import { eventually } from "../kit/eventually.js";

// Embedded mode: the same relay over PGlite, with the in-process leader lock.
let nats: NatsTestServer;
let dataDir: string;
let handle: DatabaseHandle;
let link: NatsLink;
let relay: OutboxRelay;
const wakeup = new Wakeup();
const stream = testStream(`PGLITE_${randomBytes(3).toString("hex")}`);

beforeAll(async () => {
  nats = await startNatsServer();
  dataDir = await mkdtemp(path.join(tmpdir(), "pglite-relay-"));
  handle = await openDatabase({ dataDir });
  await migrate(handle.db);
  const logger = new RecordingLogger();
  link = openNatsConnection({ servers: nats.url, logger });
  relay = createOutboxRelay({
    db: handle.db,
    nats: link,
    stream,
    leaderLock: inProcessLeaderLock(LeaderRole.outboxRelay),
    wakeup,
    logger,
    // Prune on every idle round, keeping nothing: exercises the DELETE on PGlite too.
    retention: { keepPublishedMs: 0, everyMs: 0 },
  });
  relay.start();
});

afterAll(async () => {
  await relay?.stop();
  await link?.close();
  await handle?.close();
  await nats?.cleanup();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe("outbox relay on embedded PGlite", () => {
  it("when events are committed, then they are published in order, marked, and pruned once published", async () => {
    const tenantId = `lite-${randomBytes(4).toString("hex")}`;
    const events = Array.from({ length: 20 }, (_, i) => receivedEvent(tenantId, i));
    await handle.db.transaction((tx) => appendToOutbox(tx, events));
    wakeup.notify();

    const onStream = await eventually("20 events on the stream", async () => {
      const found = await nats.collectEvents(stream.name, `whatsapp.${tenantId}.>`);
      return found.length >= 20 ? found : undefined;
    }, { retryErrors: true });
    expect(onStream.map((e) => e.msgId)).toEqual(events.map((e) => e.id));
    expect(await unpublishedCount(handle, tenantId)).toBe(0);
    await eventually("published rows pruned", async () => {
      const rows = await handle.db.query.outbox.findMany();
      return rows.length === 0 ? true : undefined;
    }, { retryErrors: true });
  });
});
