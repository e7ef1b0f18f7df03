/**
 * A private nats-server (JetStream on, file store in a temp dir, a free port)
 * per test file, and a reader that collects what a stream holds.
 *
 * Why private: the service's stream listens on `whatsapp.>`, and JetStream
 * refuses two streams with overlapping subjects on one server, so test files
 * running in parallel cannot share the machine's server. A private server
 * also lets a test stop and restart NATS (same port, same store) without
 * touching anyone else. It starts in about 100 ms.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

import { fromBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";

import {
  ContactCreatedEventSchema,
  ConversationClosedEventSchema,
  ConversationOpenedEventSchema,
  MessageFailedEventSchema,
  MessageReceivedEventSchema,
  MessageStatusEventSchema,
  OtpVerifiedEventSchema,
  TemplateStatusEventSchema,
} from "../../gen/whatsapp/v1/events_pb.js";

/** Where the machine's nats-server lives; NATS_SERVER_BIN overrides. */
export const NATS_SERVER_BIN = process.env.NATS_SERVER_BIN || "/usr/sbin/nats-server";

const READY_LINE = "Server is ready";
const START_TIMEOUT_MS = 15_000;

export interface NatsTestServer {
  /** `nats://127.0.0.1:<port>` — stays the same across stop/start. */
  url: string;
  port: number;
  /** JetStream file store; kept across stop/start so streams survive a restart. */
  storeDir: string;
  /** True between a successful start and the next stop. */
  running(): boolean;
  /** Kills the server (SIGKILL: an abrupt outage, not a graceful shutdown) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same store. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Every event the stream holds on subjects matching `subjectFilter`, in stream order. */
  collectEvents(stream: string, subjectFilter?: string): Promise<CollectedEvent[]>;
  /** Stops the server and deletes its store. */
  cleanup(): Promise<void>;
}

/** Starts a private nats-server with JetStream on a free port. Call `cleanup()` in afterAll. */
export async function startNatsServer(): Promise<NatsTestServer> {
  const storeDir = await mkdtemp(path.join(tmpdir(), "nats-test-"));
  const port = await freePort();
  const url = `nats://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const start = async () => {
    if (child) return;
    child = await spawnServer(port, storeDir);
    // An unexpected exit (not through stop()) leaves `child` pointing at a dead process; forget it.
    const started = child;
    started.once("exit", () => {
      if (child === started) child = undefined;
    });
  };
  const stop = async () => {
    const running = child;
    if (!running) return;
    child = undefined;
    await killAndWait(running);
  };

  await start();
  return {
    url,
    port,
    storeDir,
    running: () => child !== undefined,
    start,
    stop,
    async restart() {
      await stop();
      await start();
    },
    collectEvents: (stream, subjectFilter) => collectEvents(url, stream, subjectFilter),
    async cleanup() {
      await stop();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

/**
 * A port nobody listens on right now. Another process could take it before
 * nats-server binds it; with ports handed out by the kernel that is rare, and
 * the server's start would then fail loudly rather than share a port.
 */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error("no free port"))));
    });
  });
}

async function spawnServer(port: number, storeDir: string): Promise<ChildProcess> {
  const child = spawn(NATS_SERVER_BIN, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`nats-server did not become ready within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (output.includes(READY_LINE)) {
        cleanupListeners();
        resolve();
      }
    };
    const onExit = (code: number | null) => fail(new Error(`nats-server exited with ${code} before it was ready:\n${output}`));
    const onError = (error: Error) => fail(error);
    function cleanupListeners() {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.stderr?.off("data", onData);
      child.off("exit", onExit);
      child.off("error", onError);
    }
    function fail(error: Error) {
      cleanupListeners();
      child.kill("SIGKILL");
      reject(error);
    }
    // nats-server logs to stderr; read both so neither pipe fills up.
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
    child.once("error", onError);
  });
  // Keep draining the pipes after start-up: a full pipe would block the server.
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

/** One message read back from the stream. */
export interface CollectedEvent {
  /** Stream sequence. */
  seq: number;
  subject: string;
  /** `Nats-Msg-Id`: the event id. */
  msgId: string | undefined;
  eventType: string | undefined;
  contentType: string | undefined;
  traceparent: string | undefined;
  headers: Record<string, string>;
  payload: Uint8Array;
  /** The payload decoded with the schema its `whatsapp-event-type` names (undefined for unknown types). */
  event: DecodedEvent | undefined;
}

/** The protobuf schema for each event type (SPEC §7). */
export const EVENT_SCHEMAS = {
  "message.received": MessageReceivedEventSchema,
  "message.status": MessageStatusEventSchema,
  "message.failed": MessageFailedEventSchema,
  "conversation.opened": ConversationOpenedEventSchema,
  "conversation.closed": ConversationClosedEventSchema,
  "contact.created": ContactCreatedEventSchema,
  "template.status": TemplateStatusEventSchema,
  "otp.verified": OtpVerifiedEventSchema,
} as const satisfies Record<string, DescMessage>;

export type DecodedEvent = {
  [K in keyof typeof EVENT_SCHEMAS]: { type: K; message: MessageShape<(typeof EVENT_SCHEMAS)[K]> };
}[keyof typeof EVENT_SCHEMAS];

/**
 * Reads every message the stream holds on `subjectFilter` (default: all),
 * through an ordered (ephemeral, flow-controlled) consumer — the way an
 * outside listener would — and decodes each payload by its event type.
 * Returns what is there now; poll with a deadline to wait for more.
 */
export async function collectEvents(natsUrl: string, stream: string, subjectFilter = ">"): Promise<CollectedEvent[]> {
  const nc = await connect({ servers: natsUrl, name: "test-collector" });
  try {
    return await readStream(nc, stream, subjectFilter);
  } finally {
    await nc.close();
  }
}

async function readStream(nc: NatsConnection, stream: string, subjectFilter: string): Promise<CollectedEvent[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream);
  if (info.state.messages === 0) return [];
  const consumer = await jetstream(nc).consumers.get(stream, { filter_subjects: subjectFilter, deliver_policy: DeliverPolicy.All });
  const { num_pending: pending } = await consumer.info(true);
  const events: CollectedEvent[] = [];
  while (events.length < pending) {
    const batch = await consumer.fetch({ max_messages: Math.min(pending - events.length, 1_000), expires: 2_000 });
    let received = 0;
    for await (const msg of batch) {
      received++;
      events.push(toCollected(msg.seq, msg.subject, msg.headers, msg.data));
    }
    // An empty fetch means the stream lost messages since `info` (max_age) — return what is there.
    if (received === 0) break;
  }
  return events;
}

function toCollected(seq: number, subject: string, hdrs: MsgHdrs | undefined, payload: Uint8Array): CollectedEvent {
  const headers: Record<string, string> = {};
  for (const [key, values] of hdrs ?? []) headers[key] = values.join(",");
  const eventType = hdrs?.get("whatsapp-event-type") || undefined;
  return {
    seq,
    subject,
    msgId: hdrs?.get("Nats-Msg-Id") || undefined,
    eventType,
    contentType: hdrs?.get("content-type") || undefined,
    traceparent: hdrs?.get("traceparent") || undefined,
    headers,
    payload,
    event: decode(eventType, payload),
  };
}

function decode(eventType: string | undefined, payload: Uint8Array): DecodedEvent | undefined {
  if (eventType === undefined || !(eventType in EVENT_SCHEMAS)) return undefined;
  const type = eventType as keyof typeof EVENT_SCHEMAS;
  return { type, message: fromBinary(EVENT_SCHEMAS[type], payload) } as DecodedEvent;
}
