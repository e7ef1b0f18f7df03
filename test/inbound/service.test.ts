/**
 * The whole path inside the real service: a signed Meta delivery answered by
 * the webhook edge is applied by the inbox worker the service started, and
 * its events are in the outbox.
 */
import { createHmac } from "node:crypto";

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";

import { MessageType } from "../../gen/whatsapp/v1/message_pb.js";
import { startTestService, type TestService } from "../support/service.js";
import { eventsNamed, metaFixture, outboxEvents, uniqueIds } from "./support/inbound-harness.js";
import { eventually } from "../kit/eventually.js";

const APP_SECRET = "inbound-service-test-app-secret";
let service: TestService;

beforeAll(async () => {
  // The relay is not started (no NATS): events stay in the outbox, where this test reads them.
  service = await startTestService({ env: { META_APP_SECRET: APP_SECRET, WORKERS: "inbox" } });
});

afterAll(async () => {
  await service?.cleanup();
});

describe("the service's inbox worker", () => {
  it("when Meta posts a signed delivery, then the worker applies it after the 200 and its events are in the outbox", async () => {
    const ids = uniqueIds("service");
    const { app } = service.service;
    await app.accounts.create({
      id: uuidv7(),
      tenantId: ids.tenantId,
      provider: "meta",
      displayName: "Service test",
      phoneNumberId: ids.phoneNumberId,
      wabaId: ids.wabaId,
      displayPhoneNumber: "+15550783881",
      businessId: "biz-svc",
      rateLimitPerSecond: 80,
      status: "active",
      credentials: {},
      metadata: {},
    });
    const body = JSON.stringify(metaFixture("pywa_message__order", ids));

    const response = await fetch(`${service.service.url}/webhook`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-hub-signature-256": `sha256=${createHmac("sha256", APP_SECRET).update(body).digest("hex")}`,
      },
      body,
    });
    expect(response.status).toBe(200);

    const received = await eventually("the message.received event", async () => {
      const events = eventsNamed(await outboxEvents(app.database.db, ids.tenantId), "message.received");
      return events.length > 0 ? events : undefined;
    });
    expect(received).toHaveLength(1);
    expect(received[0]?.event).toMatchObject({ businessId: "biz-svc", phoneNumberId: ids.phoneNumberId, type: MessageType.ORDER, wamid: "wamid.xyzxyz" });
  });
});
