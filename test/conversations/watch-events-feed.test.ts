/**
 * The event feed behind WatchEvents, on its own against a real PostgreSQL
 * (and embedded PGlite): commit-safe order when transactions commit out of
 * seq order, bounded buffering for slow consumers, replay then live.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { Event } from "../../gen/whatsapp/v1/events_pb.js";
import { outboxRecordToEvent } from "../../src/adapters/events/event-envelope.js";
import { migrate, openDatabase, queryRows, type DatabaseHandle } from "../../src/adapters/postgres/index.js";
import { EventFeed, type EventFeedOptions, type EventWatch } from "../../src/adapters/postgres/outbox/event-feed.js";
import { appendToOutbox } from "../../src/adapters/postgres/outbox/outbox.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { uniqueTenant } from "../support/service.js";
import { commitEvents, makeEvent } from "./watch-support.js";
import { eventually } from "../kit/eventually.js";

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

/** Reads a watch in the background into an array of event ids. */
function collect(watch: EventWatch<Event>): { ids: string[]; finished: Promise<void> } {
  const ids: string[] = [];
  const finished = (async () => {
    for await (const event of watch) ids.push(event.eventId);
  })();
  return { ids, finished };
}

function waitForIds(reader: { ids: string[] }, n: number): Promise<string[]> {
  return eventually(`${n} events`, () => (reader.ids.length >= n ? [...reader.ids] : undefined));
}

describe("the event feed on PostgreSQL", () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  const feeds: EventFeed<Event>[] = [];

  function feed(options: Partial<EventFeedOptions<Event>> = {}): EventFeed<Event> {
    const f = new EventFeed<Event>({ db: handle.db, decode: outboxRecordToEvent, logger: quiet, ...options });
    feeds.push(f);
    return f;
  }

  beforeAll(async () => {
    database = await createTestDatabase("feed");
    handle = await openDatabase({ databaseUrl: database.url, dataDir: "unused" });
    await migrate(handle.db);
  });

  afterAll(async () => {
    await Promise.all(feeds.map((f) => f.close()));
    await handle?.close();
    await database?.drop();
  });

  it("when the transaction holding the lower seq commits last, then its event is delivered (before the other), not skipped", async () => {
    const f = feed();
    const tenantId = uniqueTenant("order");
    const watch = f.watch({ tenantId, from: await f.now() });
    const reader = collect(watch);
    const [a, b] = [makeEvent(tenantId, { label: "a" }), makeEvent(tenantId, { label: "b" })];

    let inserted!: () => void;
    let release!: () => void;
    const aInserted = new Promise<void>((resolve) => (inserted = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    // Transaction A writes first (lower seq, lower xid) and stays open…
    const txA = handle.db.transaction(async (tx) => {
      await appendToOutbox(tx, [a]);
      inserted();
      await gate;
    });
    await aInserted;
    // …while B writes after it (higher seq) and commits first.
    await commitEvents(handle.db, [b]);
    // A feed that tailed by seq would hand out b now and never look back at a's seq.
    await f.nextRound();
    await new Promise((resolve) => setImmediate(resolve));
    expect(reader.ids).toEqual([]);

    release();
    await txA;
    f.wake();
    expect(await waitForIds(reader, 2)).toEqual([a.id, b.id]);
    const rows = await queryRows<{ id: string; seq: string }>(handle.db, sql`select id, seq::text from control.outbox where tenant_id = ${tenantId} order by seq`);
    expect(rows.map((r) => r.id)).toEqual([a.id, b.id]); // a did hold the lower seq
    watch.close();
    await reader.finished;
  });

  it("when a consumer is slower than the events, then it still gets every event in order, holding at most its queue in memory", async () => {
    const f = feed({ queueCapacity: 3, batchSize: 4 });
    const tenantId = uniqueTenant("slow");
    const watch = f.watch({ tenantId, from: await f.now() });
    const events = Array.from({ length: 25 }, (_, i) => makeEvent(tenantId, { label: `slow-${i}` }));
    // Committed in 5 transactions before the consumer reads anything.
    for (let i = 0; i < events.length; i += 5) await commitEvents(handle.db, events.slice(i, i + 5), () => f.wake());
    await f.nextRound();

    const ids: string[] = [];
    for await (const event of watch) {
      ids.push(event.eventId);
      if (ids.length === events.length) break;
    }
    expect(ids).toEqual(events.map((e) => e.id));
    expect(f.watching).toBe(0); // breaking out of the loop closed the watch
  });

  it("when a watch starts after an event, then it replays what followed it, then continues live; other tenants' events never appear", async () => {
    const f = feed();
    const tenantId = uniqueTenant("replay");
    const other = uniqueTenant("other");
    const [e1, e2, e3] = [makeEvent(tenantId), makeEvent(tenantId), makeEvent(tenantId)];
    await commitEvents(handle.db, [e1, makeEvent(other)]);
    await commitEvents(handle.db, [e2, e3, makeEvent(other)]);

    const from = await f.resumeAfter(tenantId, e1.id);
    expect(from).toBeDefined();
    expect(await f.resumeAfter(other, e1.id)).toBeUndefined();
    const reader = collect(f.watch({ tenantId, from: from! }));
    expect(await waitForIds(reader, 2)).toEqual([e2.id, e3.id]);

    const e4 = makeEvent(tenantId);
    await commitEvents(handle.db, [makeEvent(other), e4], () => f.wake());
    expect(await waitForIds(reader, 3)).toEqual([e2.id, e3.id, e4.id]);
  });

  it("when the feed closes, then open watches end with reason shutdown and new ones end at once", async () => {
    const f = feed();
    const tenantId = uniqueTenant("close");
    const watch = f.watch({ tenantId, from: await f.now() });
    const reader = collect(watch);
    await eventually("the watch to be open", () => (f.watching === 1 ? true : undefined));
    await f.close();
    await reader.finished;
    expect(watch.ended).toBe("shutdown");
    expect(f.watch({ tenantId, from: await f.now() }).ended).toBe("shutdown");
  });

  it("when the consumer's signal aborts, then its watch ends and is forgotten", async () => {
    const f = feed();
    const controller = new AbortController();
    const watch = f.watch({ tenantId: uniqueTenant("abort"), from: await f.now(), signal: controller.signal });
    const reader = collect(watch);
    expect(f.watching).toBe(1);
    controller.abort();
    await reader.finished;
    expect(watch.ended).toBe("closed");
    expect(f.watching).toBe(0);
  });
});

describe("the event feed on embedded PGlite", () => {
  let dataDir: string;
  let handle: DatabaseHandle;
  let f: EventFeed<Event>;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "pglite-feed-"));
    handle = await openDatabase({ dataDir });
    await migrate(handle.db);
    f = new EventFeed<Event>({ db: handle.db, decode: outboxRecordToEvent, logger: quiet });
  });

  afterAll(async () => {
    await f?.close();
    await handle?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("when a watch resumes after an event, then it gets the later events, then live ones", async () => {
    const tenantId = uniqueTenant("pglite");
    const [e1, e2] = [makeEvent(tenantId), makeEvent(tenantId)];
    await commitEvents(handle.db, [e1]);
    await commitEvents(handle.db, [e2]);
    const reader = collect(f.watch({ tenantId, from: (await f.resumeAfter(tenantId, e1.id))! }));
    expect(await waitForIds(reader, 1)).toEqual([e2.id]);

    const e3 = makeEvent(tenantId, { name: "conversation.opened" });
    await commitEvents(handle.db, [e3], () => f.wake());
    expect(await waitForIds(reader, 2)).toEqual([e2.id, e3.id]);
  });
});
