import { EventEmitter } from "node:events";
import { create, type Message } from "@bufbuild/protobuf";
import { Code, ConnectError, type StreamResponse } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { WatchEventsResponseSchema } from "../../../../gen/whatsapp/v1/conversation_pb.js";
import type { AnyResponse } from "../json.js";
import { eventIdReader, serveEventStream } from "./sse.js";

/** Just enough of a Node response to watch what is written. */
class FakeResponse extends EventEmitter {
  status: number | undefined;
  headers: Record<string, string> = {};
  written = "";
  ended = false;
  writeHead(status: number, headers: Record<string, string>) {
    this.status = status;
    this.headers = headers;
    return this;
  }
  write(text: string) {
    this.written += text;
    return true;
  }
  end() {
    this.ended = true;
    this.emit("close");
  }
}

async function until(what: string, probe: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 5_000; !probe(); ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function streamOf(messages: AsyncIterable<Message>): StreamResponse {
  return { stream: true, message: messages } as unknown as StreamResponse;
}

const event = (id: string) => create(WatchEventsResponseSchema, { event: { eventId: id } });
const options = (res: FakeResponse) => ({
  res: res as unknown as AnyResponse,
  toJson: (m: Message) => ({ id: eventIdReader(WatchEventsResponseSchema)(m) ?? null }),
  idOf: eventIdReader(WatchEventsResponseSchema),
  errorJson: (e: unknown) => ({ body: { code: ConnectError.from(e).code, message: ConnectError.from(e).rawMessage, details: [] } }),
  onFailure: () => {},
});

describe("serveEventStream", () => {
  it("when the call is admitted and no event comes yet, then the headers are sent at once and keep-alive comments follow", async () => {
    const res = new FakeResponse();
    // Connect resolves the call with its first message: none comes here.
    const served = serveEventStream({ ...options(res), admission: Promise.resolve(), call: new Promise(() => {}), keepAliveMs: 1 });
    await until("the headers", () => res.status === 200);
    expect(res.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    await until("a keep-alive comment", () => res.written.includes(": keep-alive\n\n"));
    expect(res.written.startsWith(": watching\n\n")).toBe(true);
    res.emit("close");
    await served;
    expect(res.ended).toBe(false);
  });

  it("when events come, then each is an id: and data: record; an error after opening is an error record, then the end", async () => {
    const res = new FakeResponse();
    async function* events(): AsyncGenerator<Message> {
      yield event("e1");
      yield event("e2");
      throw new ConnectError("draining", Code.Unavailable);
    }
    await serveEventStream({ ...options(res), admission: Promise.resolve(), call: Promise.resolve(streamOf(events())), keepAliveMs: 60_000 });
    expect(res.written).toBe(': watching\n\nid: e1\ndata: {"id":"e1"}\n\nid: e2\ndata: {"id":"e2"}\n\nevent: error\ndata: {"code":14,"message":"draining","details":[]}\n\n');
    expect(res.ended).toBe(true);
  });

  it("when the call is refused before admission, then nothing is written and the failure is answered as an ordinary error", async () => {
    const res = new FakeResponse();
    const failures: unknown[] = [];
    const refused = (): AsyncIterable<Message> => ({
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new ConnectError("invalid or missing bearer token", Code.Unauthenticated)) }),
    });
    await serveEventStream({ ...options(res), onFailure: (e) => failures.push(e), admission: new Promise(() => {}), call: Promise.resolve(streamOf(refused())), keepAliveMs: 60_000 });
    expect(res.status).toBeUndefined();
    expect(res.written).toBe("");
    expect(failures.map((e) => ConnectError.from(e).code)).toEqual([Code.Unauthenticated]);
  });
});
