/**
 * ConversationService.WatchEvents through the real service over HTTP, with
 * bearer tokens per tenant: resume from an event id (replay, then live) over
 * Connect, gRPC and gRPC-Web; tenant isolation; filters; OUT_OF_RANGE; the
 * stream's end when the client leaves or the service stops.
 */
import { createHmac } from "node:crypto";

import { Code } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { ConversationService } from "../../gen/whatsapp/v1/conversation_pb.js";
import { EventType, type Event } from "../../gen/whatsapp/v1/events_pb.js";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { MessageType } from "../../gen/whatsapp/v1/message_pb.js";
import type { OutboxEvent } from "../../src/adapters/postgres/outbox/outbox.js";
import { createMetaAccount, metaFixture, uniqueIds } from "../inbound/support/inbound-harness.js";
import {
  closeClientSessions,
  clientWithToken,
  mintToken,
  startTestService,
  uniqueTenant,
  type Protocol,
  type TestService,
} from "../support/service.js";
import { commitEvents, makeEvent, openWatch, receivedIds, type OpenWatch } from "./watch-support.js";
import { eventually } from "../kit/eventually.js";

const APP_SECRET = "watch-events-test-app-secret";
const PROTOCOLS: Protocol[] = ["connect-json-h1", "connect-binary-h2", "grpc", "grpc-web"];

let svc: TestService;

beforeAll(async () => {
  // No NATS: events stay in the outbox, which is what WatchEvents reads. The inbox worker applies webhooks.
  svc = await startTestService({ auth: "jwt", env: { RATE_LIMIT_PER_SECOND: "0", META_APP_SECRET: APP_SECRET, WORKERS: "inbox" } });
});

// Every test leaves with its streams closed: the service must have let go of them all (no leak across protocols).
beforeEach(async () => {
  await eventually("the earlier tests' watches to be released", () => (svc.service.app.eventFeed.watching === 0 ? true : undefined));
});

afterAll(async () => {
  closeClientSessions();
  await svc?.cleanup();
});

async function watcher(tenantId: string, protocol: Protocol = "grpc", permissions: string[] = ["whatsapp:read"]) {
  return clientWithToken(ConversationService, svc.service.url, await mintToken({ tenantId, permissions }), protocol);
}

function commit(...events: OutboxEvent[]): Promise<OutboxEvent[]> {
  const { app } = svc.service;
  return commitEvents(app.database.db, events, () => app.outboxWakeup.notify());
}

/** Waits until the service holds `n` open watches (each has taken its starting point). */
function watchesOpen(n: number): Promise<true> {
  return eventually(`${n} open watches`, () => (svc.service.app.eventFeed.watching >= n ? true : undefined));
}

async function closeAll(...watches: OpenWatch[]): Promise<void> {
  for (const w of watches) w.abort();
  await Promise.all(watches.map((w) => w.finished));
}

describe("WatchEvents resumed from an event id", () => {
  for (const protocol of PROTOCOLS) {
    it(`when a client over ${protocol} resumes after an event, then it receives the missed events, then live ones, as full Events`, async () => {
      const tenantId = uniqueTenant("resume");
      const accountId = "0190a000-0000-7000-8000-000000000001";
      const [e1, e2, e3] = [
        makeEvent(tenantId, { accountId, label: "one" }),
        makeEvent(tenantId, { accountId, name: "conversation.opened" }),
        makeEvent(tenantId, { accountId, name: "message.status", label: "three" }),
      ];
      await commit(e1);
      await commit(e2, e3);

      const watch = openWatch(await watcher(tenantId, protocol), { afterEventId: e1.id });
      expect(await receivedIds(watch, 2)).toEqual([e2.id, e3.id]);

      const e4 = makeEvent(tenantId, { accountId, label: "four" });
      await commit(e4);
      expect(await receivedIds(watch, 3)).toEqual([e2.id, e3.id, e4.id]);

      const [opened, status, received] = watch.events as [Event, Event, Event];
      expect(opened).toMatchObject({ eventId: e2.id, type: EventType.CONVERSATION_OPENED, tenantId, accountId });
      expect(opened.conversationId).not.toBe("");
      expect(opened.payload).toMatchObject({ case: "conversationOpened", value: { eventId: e2.id, conversationId: opened.conversationId } });
      expect(status).toMatchObject({ type: EventType.MESSAGE_STATUS, payload: { case: "messageStatus", value: { eventId: e3.id, content: "three" } } });
      expect(received).toMatchObject({ type: EventType.MESSAGE_RECEIVED, payload: { case: "messageReceived", value: { eventId: e4.id, content: "four" } } });
      expect(Math.abs(timestampDate(received.occurredAt!).getTime() - Date.now())).toBeLessThan(3_600_000);
      expect(watch.done).toBe(false);
      await closeAll(watch);
    });
  }

  it("when the event id is unknown, another tenant's, or no longer retained, then OUT_OF_RANGE, the same each time", async () => {
    const tenantA = uniqueTenant("range-a");
    const tenantB = uniqueTenant("range-b");
    const [ofB] = await commit(makeEvent(tenantB));
    const [pruned] = await commit(makeEvent(tenantA));
    // What the relay's retention does to an old published row.
    await svc.service.app.database.db.execute(sql`delete from control.outbox where id = ${pruned!.id}::uuid`);
    const client = await watcher(tenantA);

    const outcomes = [];
    for (const id of ["0190a000-0000-7000-8000-00000000dead", ofB!.id, pruned!.id]) {
      const watch = openWatch(client, { afterEventId: id });
      await watch.finished;
      outcomes.push({
        code: watch.error?.code,
        message: watch.error?.rawMessage.replace(id, "<id>"),
        reasons: watch.error?.findDetails(ErrorInfoSchema).map((d) => d.reason),
        events: watch.events.length,
      });
    }
    expect(outcomes[0]).toEqual({ code: Code.OutOfRange, message: expect.stringContaining("after_event_id") as string, reasons: ["EVENT_NOT_RETAINED"], events: 0 });
    expect(outcomes[1]).toEqual(outcomes[0]);
    expect(outcomes[2]).toEqual(outcomes[0]);
  });

  it("when after_event_id is not a UUID, then INVALID_ARGUMENT", async () => {
    const watch = openWatch(await watcher(uniqueTenant("bad")), { afterEventId: "not-a-uuid" });
    await watch.finished;
    expect(watch.error?.code).toBe(Code.InvalidArgument);
  });
});

describe("WatchEvents and tenants", () => {
  it("when tenants A and B both watch while both get events, then each sees exactly its own, in commit order", async () => {
    const tenantA = uniqueTenant("iso-a");
    const tenantB = uniqueTenant("iso-b");
    const watchA = openWatch(await watcher(tenantA, "grpc"));
    const watchB = openWatch(await watcher(tenantB, "connect-json-h1"));
    await watchesOpen(2);

    const a: OutboxEvent[] = [];
    const b: OutboxEvent[] = [];
    for (let i = 0; i < 5; i++) {
      const [ea, eb] = [makeEvent(tenantA, { label: `a${i}` }), makeEvent(tenantB, { label: `b${i}` })];
      a.push(ea);
      b.push(eb);
      // Interleaved, sometimes in one transaction: the feed reads both tenants' rows together.
      if (i % 2 === 0) await commit(ea, eb);
      else {
        await commit(eb);
        await commit(ea);
      }
    }
    expect(await receivedIds(watchA, 5)).toEqual(a.map((e) => e.id));
    expect(await receivedIds(watchB, 5)).toEqual(b.map((e) => e.id));
    // One more for A: B's stream stays at its five.
    const last = makeEvent(tenantA);
    await commit(last);
    await receivedIds(watchA, 6);
    expect(watchA.events.every((e) => e.tenantId === tenantA)).toBe(true);
    expect(watchB.ids()).toEqual(b.map((e) => e.id));
    expect(watchB.events.every((e) => e.tenantId === tenantB)).toBe(true);
    await closeAll(watchA, watchB);
  });

  it("when a token lacks whatsapp:read, then the stream is refused before anything is sent", async () => {
    const tenantId = uniqueTenant("perm");
    const watch = openWatch(await watcher(tenantId, "grpc", ["whatsapp:send"]));
    await watch.finished;
    expect(watch.error?.code).toBe(Code.PermissionDenied);
    expect(watch.events).toEqual([]);
  });
});

describe("WatchEvents from now, with filters", () => {
  it("when a client watches without after_event_id, then events committed before it are not sent and those after are", async () => {
    const tenantId = uniqueTenant("now");
    const [old] = await commit(makeEvent(tenantId));
    const watch = openWatch(await watcher(tenantId, "grpc-web"));
    await watchesOpen(1);
    const [fresh] = await commit(makeEvent(tenantId));
    expect(await receivedIds(watch, 1)).toEqual([fresh!.id]);
    expect(watch.ids()).not.toContain(old!.id);
    await closeAll(watch);
  });

  it("when a client filters by type, account or conversation, then it gets only the matching events", async () => {
    const tenantId = uniqueTenant("filter");
    const accountX = "0190a000-0000-7000-8000-0000000000aa";
    const accountY = "0190a000-0000-7000-8000-0000000000bb";
    const conversation = "0190a000-0000-7000-8000-0000000000cc";
    const [anchor] = await commit(makeEvent(tenantId));
    const client = await watcher(tenantId, "connect-binary-h2");
    const byType = openWatch(client, { afterEventId: anchor!.id, types: [EventType.CONVERSATION_OPENED, EventType.MESSAGE_STATUS] });
    const byAccount = openWatch(client, { afterEventId: anchor!.id, accountId: accountY });
    const byConversation = openWatch(client, { afterEventId: anchor!.id, conversationId: conversation });
    const combined = openWatch(client, { afterEventId: anchor!.id, accountId: accountX, types: [EventType.MESSAGE_RECEIVED] });

    const events = [
      makeEvent(tenantId, { accountId: accountX, name: "message.received" }),
      makeEvent(tenantId, { accountId: accountY, name: "conversation.opened", conversationId: conversation }),
      makeEvent(tenantId, { accountId: accountX, name: "message.status", conversationId: conversation }),
      makeEvent(tenantId, { accountId: accountY, name: "contact.created" }),
      makeEvent(tenantId, { accountId: accountX, name: "message.received", conversationId: conversation }),
    ];
    // Some replayed (committed before the filters' watches catch up), the rest live.
    await commit(...events.slice(0, 2));
    await commit(...events.slice(2));
    const [r1, o2, s3, c4, r5] = events.map((e) => e.id) as [string, string, string, string, string];

    expect(await receivedIds(byType, 2)).toEqual([o2, s3]);
    expect(await receivedIds(byAccount, 2)).toEqual([o2, c4]);
    expect(await receivedIds(byConversation, 3)).toEqual([o2, s3, r5]);
    expect(await receivedIds(combined, 2)).toEqual([r1, r5]);
    // A later event that matches only the type filter shows the others really did stop at what they matched.
    const [marker] = await commit(makeEvent(tenantId, { name: "conversation.opened" }));
    expect(await receivedIds(byType, 3)).toEqual([o2, s3, marker!.id]);
    expect(byAccount.ids()).toEqual([o2, c4]);
    expect(combined.ids()).toEqual([r1, r5]);
    await closeAll(byType, byAccount, byConversation, combined);
  });

  it("when Meta posts a signed message, then a watcher of message.received gets it live as the service stored it", async () => {
    const ids = uniqueIds("watch-hook");
    const account = await createMetaAccount(svc.service.app.database.db, ids);
    const watch = openWatch(await watcher(ids.tenantId, "grpc"), { types: [EventType.MESSAGE_RECEIVED] });
    await watchesOpen(1);

    const body = JSON.stringify(metaFixture("pywa_message__text", ids));
    const response = await fetch(`${svc.service.url}/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-hub-signature-256": `sha256=${createHmac("sha256", APP_SECRET).update(body).digest("hex")}` },
      body,
    });
    expect(response.status).toBe(200);

    await receivedIds(watch, 1);
    const [event] = watch.events as [Event];
    expect(event).toMatchObject({ type: EventType.MESSAGE_RECEIVED, tenantId: ids.tenantId, accountId: account.id });
    expect(event.payload.case).toBe("messageReceived");
    expect(event.payload.value).toMatchObject({ wamid: "wamid.xyzxyz", type: MessageType.TEXT, content: "Body Text", conversationId: event.conversationId });
    await closeAll(watch);
  });
});

describe("WatchEvents stream lifecycle", () => {
  it("when the client goes away, then the service forgets its watch", async () => {
    const watch = openWatch(await watcher(uniqueTenant("gone"), "grpc"));
    await watchesOpen(1);
    watch.abort();
    await watch.finished;
    expect(watch.error?.code).toBe(Code.Canceled);
    await eventually("the watch to be released", () => (svc.service.app.eventFeed.watching === 0 ? true : undefined));
  });

  it("when the service stops, then every open stream ends with UNAVAILABLE (resume later) and the stop completes", async () => {
    const own = await startTestService({ auth: "jwt", env: { WORKERS: "none" } });
    try {
      const tenantId = uniqueTenant("stop");
      const token = await mintToken({ tenantId, permissions: ["whatsapp:read"] });
      const watches = PROTOCOLS.map((protocol) => openWatch(clientWithToken(ConversationService, own.service.url, token, protocol)));
      await eventually("the streams to open", () => (own.service.app.eventFeed.watching === PROTOCOLS.length ? true : undefined));
      const [event] = await commitEvents(own.service.app.database.db, [makeEvent(tenantId)], () => own.service.app.outboxWakeup.notify());
      for (const watch of watches) expect(await receivedIds(watch, 1)).toEqual([event!.id]);

      await own.stop();
      await Promise.all(watches.map((w) => w.finished));
      for (const watch of watches) {
        expect({ code: watch.error?.code, reasons: watch.error?.findDetails(ErrorInfoSchema).map((d) => d.reason) }).toEqual({
          code: Code.Unavailable,
          reasons: ["SHUTTING_DOWN"],
        });
      }
      expect(own.logText()).not.toContain('"level":50');
    } finally {
      await own.cleanup();
    }
  });
});
