/**
 * Ids that arrive as JSON numbers (a proxy re-encoding Meta's body, or a
 * future Meta change) must keep every digit: two ids that differ only past
 * the 16th digit are two messages, not one deduplicated message.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  countRows,
  createInboundDatabase,
  createMetaAccount,
  createWorker,
  drain,
  eventsNamed,
  insertDelivery,
  messageByWamid,
  metaFixture,
  outboxEvents,
  uniqueIds,
  type InboundDatabase,
} from "./support/inbound-harness.js";

let database: InboundDatabase;

beforeAll(async () => {
  database = await createInboundDatabase();
});

afterAll(async () => {
  await database?.cleanup();
});

/** A text delivery whose message id, sender and timestamp are written as bare JSON numbers. */
function numericTextDelivery(phoneNumberId: string, id: string, from: string, at: number): string {
  const payload = metaFixture("pywa_message__text", { phoneNumberId });
  payload.entry[0]!.changes[0]!.value.messages = [{ from: "@FROM@", id: "@ID@", timestamp: "@TS@", text: { body: `id ${id}` }, type: "text" }];
  return JSON.stringify(payload).replace('"@FROM@"', from).replace('"@ID@"', id).replace('"@TS@"', String(at));
}

describe("numeric ids", () => {
  it("when two deliveries carry ids as JSON numbers differing past 2^53, then both messages are stored with their exact ids", async () => {
    const ids = uniqueIds("numid");
    await createMetaAccount(database.db, ids);
    const at = Math.floor(Date.now() / 1000);
    // 12345678901234567890 and …891 are the same double: JSON.parse alone stores both as 12345678901234567000.
    await insertDelivery(database.db, numericTextDelivery(ids.phoneNumberId, "12345678901234567890", "972987654321", at));
    await insertDelivery(database.db, numericTextDelivery(ids.phoneNumberId, "12345678901234567891", "972987654321", at + 1));

    await drain(createWorker(database.db));

    expect(await countRows(database.db, ids.tenantId, "messages")).toBe(2);
    expect(await messageByWamid(database.db, ids.tenantId, "12345678901234567890")).toBeDefined();
    expect(await messageByWamid(database.db, ids.tenantId, "12345678901234567891")).toBeDefined();
    expect(await messageByWamid(database.db, ids.tenantId, "12345678901234567000")).toBeUndefined();
    expect(eventsNamed(await outboxEvents(database.db, ids.tenantId), "message.received")).toHaveLength(2);
  });
});
