import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { openNatsConnection } from "../../src/adapters/nats/connection.js";
import { startNatsServer, type NatsTestServer } from "../support/nats-server.js";
import { RecordingLogger } from "./relay-harness.js";
import { eventually } from "../kit/eventually.js";

let nats: NatsTestServer;

beforeAll(async () => {
  nats = await startNatsServer();
});

afterAll(async () => {
  await nats?.cleanup();
});

const FAST = { initialMs: 20, maxMs: 200 };

describe("NATS connection", () => {
  it("when the server dies and returns, then the state follows it, the session signal aborts, and one line is logged each way", async () => {
    const logger = new RecordingLogger();
    const link = openNatsConnection({ servers: nats.url, logger, backoff: FAST });
    try {
      const nc = await link.whenConnected();
      expect(nc).toBe(link.connection);
      expect(link.state).toBe("connected");
      const firstSession = link.session;
      expect(firstSession.aborted).toBe(false);

      await nats.stop();
      await eventually("the link to notice", async () => (link.state === "reconnecting" ? true : undefined), { retryErrors: true });
      expect(firstSession.aborted).toBe(true);

      await nats.start();
      await expect(link.whenConnected()).resolves.toBe(nc);
      expect(link.session.aborted).toBe(false);
      expect(logger.count("warn", "NATS connection lost")).toBe(1);
      expect(logger.count("info", "NATS reconnected")).toBe(1);
    } finally {
      await link.close();
    }
    expect(link.state).toBe("closed");
    expect(link.connection?.isClosed()).toBe(true);
  });

  it("when no server is reachable, then it keeps trying quietly and close() stops it", async () => {
    await nats.stop();
    const logger = new RecordingLogger();
    const link = openNatsConnection({ servers: nats.url, logger, backoff: FAST });
    try {
      expect(link.state).toBe("connecting");
      expect(link.session.aborted).toBe(true);
      await eventually("a logged failure", async () => (logger.count("warn", "NATS is not reachable") > 0 ? true : undefined), { retryErrors: true });
      const waiting = link.whenConnected();
      await link.close();
      await expect(waiting).resolves.toBeUndefined();
      expect(link.state).toBe("closed");
      expect(logger.count("warn", "NATS is not reachable")).toBe(1);
    } finally {
      await link.close();
      await nats.start();
    }
  });

  it("when the server appears after start, then the link connects by itself", async () => {
    await nats.stop();
    const link = openNatsConnection({ servers: nats.url, logger: new RecordingLogger(), backoff: FAST });
    try {
      await nats.start();
      await expect(link.whenConnected()).resolves.toBeDefined();
      expect(link.state).toBe("connected");
    } finally {
      await link.close();
    }
  });
});
