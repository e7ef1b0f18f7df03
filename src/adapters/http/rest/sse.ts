import type { DescMessage, JsonValue, Message } from "@bufbuild/protobuf";
import type { StreamResponse } from "@connectrpc/connect";
import type { AnyResponse } from "../json.js";
import type { StatusJson } from "./status.js";

/**
 * A server stream as Server-Sent Events (`text/event-stream`):
 *
 *     : watching
 *
 *     id: 0190…            ← the event id (Last-Event-ID on reconnect resumes after it)
 *     data: {"event":{…}}  ← one response message, proto3 JSON, one line
 *
 *     : keep-alive         ← a comment every keepAliveMs, so proxies keep the connection
 *
 *     event: error         ← the stream failed after it opened (e.g. the service is draining)
 *     data: {"code":14,"message":"…","details":[…]}
 *
 * Headers are written only once the call was admitted (auth, rate limit,
 * validation): a refusal before that is an ordinary JSON error with its HTTP
 * status, which is what KrakenD and curl callers read.
 */

export interface EventStreamOptions {
  res: AnyResponse;
  /** Resolves when the interceptors let the call through. */
  admission: Promise<void>;
  call: Promise<StreamResponse>;
  toJson(message: Message): JsonValue;
  /** The event id of a message, for the `id:` line. */
  idOf(message: Message): string | undefined;
  errorJson(error: unknown): { body: StatusJson };
  keepAliveMs: number;
  /** Answers a failure before the stream opened (a plain HTTP error). */
  onFailure(error: unknown): void;
}

export async function serveEventStream(options: EventStreamOptions): Promise<void> {
  const { res } = options;
  const admitted = options.admission.then(() => "admitted" as const);
  let iterator: AsyncIterator<Message> | undefined;
  let first: Promise<IteratorResult<Message>> | undefined;
  try {
    // The call resolves with its first message (Connect waits for it), which may be long
    // after admission; or at once with a refusal, which the first read then throws.
    const called = options.call.then((response) => {
      iterator = response.message[Symbol.asyncIterator]();
      first = iterator.next();
      first.catch(() => undefined); // read below; not an unhandled rejection meanwhile
      return "called" as const;
    });
    called.catch(() => undefined);
    if ((await Promise.race([admitted, called])) === "called") await Promise.race([admitted, first!]);
  } catch (error) {
    options.onFailure(error);
    return;
  }
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    // nginx and similar proxies would buffer the stream otherwise.
    "x-accel-buffering": "no",
  });
  const closed = new Promise<void>((resolve) => (res as NodeJS.EventEmitter).once("close", resolve));
  let gone = false;
  void closed.then(() => (gone = true));
  const send = async (text: string) => {
    if (gone) return;
    if (!res.write(text)) await Promise.race([new Promise((resolve) => (res as NodeJS.EventEmitter).once("drain", resolve)), closed]);
  };
  await send(": watching\n\n");
  const keepAlive = setInterval(() => void send(": keep-alive\n\n"), options.keepAliveMs);
  try {
    // The client may leave before the first event; the call's abort signal ends it then.
    if (iterator === undefined) await Promise.race([options.call, closed]);
    for (let next = gone ? ({ done: true } as IteratorResult<Message>) : await first!; next.done !== true && !gone; next = await iterator!.next()) {
      const id = options.idOf(next.value);
      await send(`${id === undefined ? "" : `id: ${id}\n`}data: ${JSON.stringify(options.toJson(next.value))}\n\n`);
    }
  } catch (error) {
    if (!gone) await send(`event: error\ndata: ${JSON.stringify(options.errorJson(error).body)}\n\n`);
  } finally {
    clearInterval(keepAlive);
    if (!gone) res.end();
  }
}

/**
 * The event id of a stream message: its string field `event_id`, or that of
 * its first singular message field that has one (`WatchEventsResponse.event`).
 */
export function eventIdReader(schema: DescMessage): (message: Message) => string | undefined {
  const direct = schema.fields.find((f) => f.name === "event_id" && f.fieldKind === "scalar");
  if (direct !== undefined) return (m) => nonEmpty((m as unknown as Record<string, unknown>)[direct.localName]);
  for (const field of schema.fields) {
    if (field.fieldKind !== "message") continue;
    const inner = field.message.fields.find((f) => f.name === "event_id" && f.fieldKind === "scalar");
    if (inner === undefined) continue;
    return (m) => {
      const nested = (m as unknown as Record<string, unknown>)[field.localName] as Record<string, unknown> | undefined;
      return nonEmpty(nested?.[inner.localName]);
    };
  }
  return () => undefined;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}
