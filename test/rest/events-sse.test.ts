/**
 * Acceptance 4 of REST: `GET /api/events` is WatchEvents as Server-Sent
 * Events — live events as `id:`/`data:` records, and a reconnect with
 * `Last-Event-ID` resumes right after the last event received.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestService, uniqueTenant, type TestService } from "../support/service.js";
import { commitEvents, makeEvent } from "../conversations/watch-support.js";
import { eventually } from "../kit/eventually.js";
import type { OutboxEvent } from "../../src/adapters/postgres/outbox/outbox.js";

interface SseRecord {
  id?: string;
  event?: string;
  data?: string;
}

/** An open event stream read in the background: the records and comments so far. */
interface OpenStream {
  status: number;
  contentType: string | null;
  records: SseRecord[];
  comments: string[];
  close(): void;
}

async function openStream(url: string, headers: Record<string, string>): Promise<OpenStream> {
  const abort = new AbortController();
  const response = await fetch(url, { headers, signal: abort.signal });
  const stream: OpenStream = { status: response.status, contentType: response.headers.get("content-type"), records: [], comments: [], close: () => abort.abort() };
  if (response.body === null) return stream;
  const decoder = new TextDecoder();
  let buffered = "";
  void (async () => {
    try {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffered.indexOf("\n\n")) >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const record: SseRecord = {};
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) stream.comments.push(line.slice(1).trim());
            else {
              const colon = line.indexOf(":");
              const field = line.slice(0, colon) as keyof SseRecord;
              record[field] = line.slice(colon + 1).replace(/^ /, "");
            }
          }
          if (Object.keys(record).length > 0) stream.records.push(record);
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return stream;
}

describe("GET /api/events as Server-Sent Events", () => {
  let svc: TestService;
  const tenant = uniqueTenant("rest-sse");
  const headers = { "x-tenant-id": tenant };
  const streams: OpenStream[] = [];

  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await svc?.cleanup();
  });

  const open = async (extra: Record<string, string> = {}, query = "") => {
    const s = await openStream(`${svc.service.url}/api/events${query}`, { ...headers, ...extra });
    streams.push(s);
    return s;
  };
  const commit = (events: OutboxEvent[]) => commitEvents(svc.service.app.database.db, events, () => svc.service.app.outboxWakeup.notify());
  const watching = (n: number) => eventually(`${n} open watches`, () => (svc.service.app.eventFeed.watching >= n ? true : undefined));
  const released = () => eventually("every watch released", () => (svc.service.app.eventFeed.watching === 0 ? true : undefined));
  const dataRecords = (s: OpenStream, n: number) => eventually(`${n} events on the stream`, () => (s.records.filter((r) => r.data !== undefined && r.event === undefined).length >= n ? s.records.filter((r) => r.event === undefined) : undefined));

  it("when events are committed while a client watches, then each arrives as id: <event id> and data: the WatchEventsResponse JSON", async () => {
    const live = await open();
    expect(live.status).toBe(200);
    expect(live.contentType).toBe("text/event-stream; charset=utf-8");
    await watching(1);
    const events = await commit([makeEvent(tenant, { label: "one" }), makeEvent(tenant, { name: "message.status", label: "two" }), makeEvent(uniqueTenant("not-mine"))]);
    const records = await dataRecords(live, 2);
    expect(records.map((r) => r.id)).toEqual([events[0]!.id, events[1]!.id]);
    const first = JSON.parse(records[0]!.data!) as { event: Record<string, unknown> };
    expect(first.event).toMatchObject({ eventId: events[0]!.id, tenantId: tenant, type: "EVENT_TYPE_MESSAGE_RECEIVED", messageReceived: { content: "one" } });
    expect(JSON.parse(records[1]!.data!).event).toMatchObject({ type: "EVENT_TYPE_MESSAGE_STATUS", messageStatus: { status: "MESSAGE_STATUS_DELIVERED" } });
    expect(live.comments).toContain("watching");
    live.close();
    await released();
  });

  it("when a client reconnects with Last-Event-ID, then it gets the events after that one, then live ones, without a gap or a repeat", async () => {
    const first = await open();
    await watching(1);
    const [e1, e2] = await commit([makeEvent(tenant, { label: "r1" }), makeEvent(tenant, { label: "r2" })]);
    const seen = await dataRecords(first, 2);
    expect(seen.map((r) => r.id)).toEqual([e1!.id, e2!.id]);
    first.close();
    await released();

    // Committed while nobody watched.
    const [e3, e4] = await commit([makeEvent(tenant, { label: "r3" }), makeEvent(tenant, { label: "r4" })]);
    const resumed = await open({ "last-event-id": e2!.id });
    await watching(1);
    const [e5] = await commit([makeEvent(tenant, { label: "r5" })]);
    expect((await dataRecords(resumed, 3)).map((r) => r.id)).toEqual([e3!.id, e4!.id, e5!.id]);

    // The header wins over a stale after_event_id in the URL (an EventSource repeats its first URL).
    resumed.close();
    await released();
    const again = await open({ "last-event-id": e4!.id }, `?after_event_id=${e1!.id}`);
    expect((await dataRecords(again, 1)).map((r) => r.id)).toEqual([e5!.id]);
    again.close();
    await released();
  });

  it("when the event to resume after is not retained, then the stream says so with an error record (code 11) and ends", async () => {
    const stream = await open({ "last-event-id": "01900000-0000-7000-8000-000000000000" });
    expect(stream.status).toBe(200);
    const error = await eventually("the error record", () => stream.records.find((r) => r.event === "error"));
    expect(JSON.parse(error.data!)).toMatchObject({ code: 11, details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "EVENT_NOT_RETAINED" }] });
    await released();
  });

  it("when the request is refused before the stream opens, then it is a plain JSON error with its HTTP status, not an event stream", async () => {
    const response = await fetch(`${svc.service.url}/api/events?types=EVENT_TYPE_NOPE`, { headers });
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(((await response.json()) as { code: number }).code).toBe(3);
    const invalid = await fetch(`${svc.service.url}/api/events?account_id=not-a-uuid`, { headers });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { message: string }).message).toContain("account_id");
  });
});
