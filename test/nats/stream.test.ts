import { jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { ensureStream, StreamConfigError, type StreamSettings } from "../../src/adapters/nats/stream.js";
import { migrate, openDatabase } from "../../src/adapters/postgres/index.js";
import { createTestDatabase } from "../support/database.js";
import { startNatsServer, type NatsTestServer } from "../support/nats-server.js";
import { receivedEvent, RecordingLogger, startRelay, unpublishedCount } from "./relay-harness.js";
import { eventually } from "../kit/eventually.js";

// A private server: every stream here listens on `whatsapp.>`, which no other
// stream on the same server may overlap. Tests delete their stream afterwards.
let nats: NatsTestServer;
let nc: NatsConnection;
let jsm: JetStreamManager;
let counter = 0;

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url });
  jsm = await jetstreamManager(nc);
});

afterEach(async () => {
  for await (const name of jsm.streams.names()) await jsm.streams.delete(name);
});

afterAll(async () => {
  await nc?.close();
  await nats?.cleanup();
});

function settings(overrides: Partial<StreamSettings> = {}): StreamSettings {
  counter++;
  return { name: `EVENTS_${counter}`, subjects: ["whatsapp.>"], maxAgeSeconds: 3600, replicas: 1, duplicateWindowSeconds: 120, ...overrides };
}

const SECOND = 1_000_000_000;

describe("ensureStream", () => {
  it("when the stream is missing, then it is created with file storage, limits retention and the configured ages", async () => {
    const logger = new RecordingLogger();
    const wanted = settings();
    await expect(ensureStream(nc, wanted, logger)).resolves.toEqual({ action: "created" });

    const { config } = await jsm.streams.info(wanted.name);
    expect(config.subjects).toEqual(["whatsapp.>"]);
    expect(config.storage).toBe(StorageType.File);
    expect(config.retention).toBe(RetentionPolicy.Limits);
    expect(config.max_age).toBe(3600 * SECOND);
    expect(config.duplicate_window).toBe(120 * SECOND);
    expect(config.num_replicas).toBe(1);
    expect(logger.count("info", `created JetStream stream ${wanted.name}`)).toBe(1);
  });

  it("when the stream already matches, then nothing changes", async () => {
    const wanted = settings();
    await ensureStream(nc, wanted, new RecordingLogger());
    await expect(ensureStream(nc, wanted, new RecordingLogger())).resolves.toEqual({ action: "unchanged" });
  });

  it("when max age, duplicate window or subjects differ, then the stream is updated in place and keeps its messages", async () => {
    const before = settings();
    await ensureStream(nc, before, new RecordingLogger());
    await jsm.streams.update(before.name, { subjects: ["whatsapp.>", "other.>"] });
    await jetstream(nc).publish("whatsapp.t1.message.received", new Uint8Array([1]), { msgID: "kept" });

    const logger = new RecordingLogger();
    const outcome = await ensureStream(nc, { ...before, maxAgeSeconds: 7200, duplicateWindowSeconds: 60 }, logger);
    expect(outcome).toEqual({ action: "updated", changed: ["subjects", "max_age", "duplicate_window"] });

    const info = await jsm.streams.info(before.name);
    expect(info.config.subjects).toEqual(["whatsapp.>"]);
    expect(info.config.max_age).toBe(7200 * SECOND);
    expect(info.config.duplicate_window).toBe(60 * SECOND);
    expect(info.state.messages).toBe(1);
    expect(logger.count("info", "updated JetStream stream")).toBe(1);
  });

  it("when the existing stream uses memory storage, then setup fails with a clear error and leaves it alone", async () => {
    const wanted = settings();
    await jsm.streams.add({ name: wanted.name, subjects: ["whatsapp.>"], storage: StorageType.Memory });

    const failure = ensureStream(nc, wanted, new RecordingLogger());
    await expect(failure).rejects.toBeInstanceOf(StreamConfigError);
    await expect(failure).rejects.toThrow(/storage \(is memory, want file\)/);
    expect((await jsm.streams.info(wanted.name)).config.storage).toBe(StorageType.Memory);
  });

  it("when more replicas are asked of a single server, then setup fails with JetStream's reason", async () => {
    await expect(ensureStream(nc, settings({ replicas: 3 }), new RecordingLogger())).rejects.toThrow(StreamConfigError);
  });

  it("when the duplicate window is longer than max age, then setup fails before asking the server", async () => {
    await expect(ensureStream(nc, settings({ maxAgeSeconds: 60, duplicateWindowSeconds: 120 }), new RecordingLogger())).rejects.toThrow(
      /duplicate window \(120 s\) cannot be longer than max age \(60 s\)/,
    );
  });

  it("when the relay meets a stream it cannot fix, then it logs the reason once, publishes nothing and keeps the events", async () => {
    const wanted = settings();
    await jsm.streams.add({ name: wanted.name, subjects: ["whatsapp.>"], storage: StorageType.Memory });
    const database = await createTestDatabase("nats_stream");
    const reader = await openDatabase({ databaseUrl: database.url, dataDir: "unused" });
    await migrate(reader.db);
    const running = await startRelay({ databaseUrl: database.url, natsUrl: nats.url, stream: wanted });
    try {
      await running.append([receivedEvent("mismatch", 1)]);
      await eventually("the relay to report the stream", async () => (running.logger.count("error", "cannot publish events") > 0 ? true : undefined), { retryErrors: true });
      // It keeps retrying (so fixing the stream needs no restart) without a line per retry.
      await eventually("a few retries", async () => (running.relay.failures >= 3 ? true : undefined), { retryErrors: true });
      expect(running.logger.count("error", "cannot publish events")).toBe(1);
      expect((await jsm.streams.info(wanted.name)).state.messages).toBe(0);
      expect(await unpublishedCount(reader, "mismatch")).toBe(1);
    } finally {
      await running.stop();
      await reader.close();
      await database.drop();
    }
  });
});
