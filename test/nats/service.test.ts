import { randomBytes } from "node:crypto";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { appendToOutbox } from "../../src/adapters/postgres/outbox/outbox.js";
import { startNatsServer, type NatsTestServer } from "../support/nats-server.js";
import { startTestService, type TestService } from "../support/service.js";
import { receivedEvent, unpublishedCount } from "./relay-harness.js";
import { eventually } from "../kit/eventually.js";

// The real service (startService, as main.ts runs it) with NATS_URL pointing
// at a private nats-server, and one without NATS_URL.
let nats: NatsTestServer;
let withNats: TestService;
let withoutNats: TestService;
const streamName = `SVC_${randomBytes(3).toString("hex")}`;

beforeAll(async () => {
  nats = await startNatsServer();
  [withNats, withoutNats] = await Promise.all([
    startTestService({ env: { NATS_URL: nats.url, NATS_STREAM: streamName, NATS_STREAM_MAX_AGE_SECONDS: "3600" } }),
    startTestService(),
  ]);
});

afterAll(async () => {
  await Promise.all([withNats?.cleanup(), withoutNats?.cleanup()]);
  await nats?.cleanup();
});

async function natsHealth(service: TestService): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${service.service.url}/health/nats`);
  return { status: response.status, body: await response.json() };
}

/** Writes an event the way a use case does: in a transaction, then a wake-up after commit. */
async function commitEvent(service: TestService, tenantId: string) {
  const { app } = service.service;
  const event = receivedEvent(tenantId, 1);
  await app.database.db.transaction((tx) => appendToOutbox(tx, [event]));
  app.outboxWakeup.notify();
  return event;
}

describe("the service with NATS_URL", () => {
  it("when an event is committed, then the relay publishes it to the configured stream", async () => {
    const tenantId = `svc-${randomBytes(4).toString("hex")}`;
    const event = await commitEvent(withNats, tenantId);
    const events = await eventually("the event on the stream", async () => {
      const found = await nats.collectEvents(streamName, `whatsapp.${tenantId}.>`);
      return found.length > 0 ? found : undefined;
    }, { retryErrors: true });
    expect(events.map((e) => e.msgId)).toEqual([event.id]);
    expect(withNats.logText()).toContain(`created JetStream stream ${streamName}`);
  });

  it("when NATS goes down and comes back, then /health/nats reports ok, then unavailable, then ok", async () => {
    await eventually("NATS connected", async () => ((await natsHealth(withNats)).status === 200 ? true : undefined), { retryErrors: true });
    expect(await natsHealth(withNats)).toEqual({ status: 200, body: { status: "ok" } });

    await nats.stop();
    const down = await eventually("health to report the outage", async () => {
      const health = await natsHealth(withNats);
      return health.status === 503 ? health : undefined;
    }, { retryErrors: true });
    expect(down.body).toEqual({ status: "unavailable", state: "reconnecting" });

    await nats.start();
    await eventually("health to recover", async () => ((await natsHealth(withNats)).status === 200 ? true : undefined), { retryErrors: true });
    expect(await natsHealth(withNats)).toEqual({ status: 200, body: { status: "ok" } });
  });
});

describe("the service without NATS_URL", () => {
  it("when asked for NATS health, then it answers 200 disabled", async () => {
    expect(await natsHealth(withoutNats)).toEqual({ status: 200, body: { status: "disabled" } });
  });

  it("when an event is committed, then it waits in the outbox and the log says why", async () => {
    const tenantId = `svc-${randomBytes(4).toString("hex")}`;
    await commitEvent(withoutNats, tenantId);
    expect(await unpublishedCount(withoutNats.service.app.database, tenantId)).toBe(1);
    expect(withoutNats.logText()).toContain("NATS_URL is not set: events are kept in the outbox");
  });
});
