/**
 * A `customer_identity_changed` system message carries Meta's `identity`
 * object; listeners get it as typed fields of SystemNotice, not only as raw JSON.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  createInboundDatabase,
  createMetaAccount,
  createWorker,
  drain,
  eventsNamed,
  insertDelivery,
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

describe("identity change notices", () => {
  it("when Meta delivers customer_identity_changed, then message.received carries the identity's hash, acknowledgement and creation time", async () => {
    const ids = uniqueIds("ident");
    await createMetaAccount(database.db, ids);
    await insertDelivery(database.db, metaFixture("pywa_system__identity_change", ids));
    await drain(createWorker(database.db));

    const [received] = eventsNamed(await outboxEvents(database.db, ids.tenantId), "message.received");
    expect(received?.event.message?.content).toMatchObject({
      case: "system",
      value: {
        type: "customer_identity_changed",
        body: "User identity changed",
        identity: { acknowledged: true, hash: "xyzxyz", createTime: { seconds: 1697044706n } },
      },
    });
  });

  it("when Meta delivers user_changed_number, then the notice has the new id and no identity", async () => {
    const ids = uniqueIds("numchg");
    await createMetaAccount(database.db, ids);
    await insertDelivery(database.db, metaFixture("pywa_system__phone_number_change", ids));
    await drain(createWorker(database.db));

    const [received] = eventsNamed(await outboxEvents(database.db, ids.tenantId), "message.received");
    expect(received?.event.message?.content.case).toBe("system");
    const notice = received?.event.message?.content.value as { identity?: unknown; newWaId: string };
    expect(notice.identity).toBeUndefined();
    expect(notice.newWaId).not.toBe("");
  });
});
