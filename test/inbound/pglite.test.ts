/**
 * Embedded mode (no DATABASE_URL) runs the same inbox worker on PGlite:
 * the same migrations, claims, advisory locks and outbox writes.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { migrate, openDatabase, withTenant, type DatabaseHandle } from "../../src/adapters/postgres/index.js";
import { applyPendingStatuses } from "../kit/early-statuses.js";
import {
  batch,
  createMetaAccount,
  createWorker,
  drain,
  inboxRow,
  insertDelivery,
  insertOutboundMessage,
  messageByWamid,
  metaFixture,
  outboxEvents,
  uniqueIds,
} from "./support/inbound-harness.js";

let dataDir: string;
let handle: DatabaseHandle;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "pglite-inbound-"));
  handle = await openDatabase({ dataDir });
  await migrate(handle.db);
});

afterAll(async () => {
  await handle?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe("the inbox worker on embedded PGlite", () => {
  it("when messages, statuses and a duplicate are delivered, then they are applied as on PostgreSQL", async () => {
    const ids = uniqueIds("pglite");
    const account = await createMetaAccount(handle.db, ids);
    await insertOutboundMessage(handle.db, ids.tenantId, account.id, { wamid: "wamid.xyzxyz", status: "sent" });
    const text = metaFixture("pywa_message__text", ids);
    (text.entry[0]!.changes[0]!.value.messages as { id: string }[])[0]!.id = "wamid.in";
    const first = await insertDelivery(handle.db, batch(text, metaFixture("pywa_message_status__read", ids)));
    await insertDelivery(handle.db, text);
    const early = metaFixture("pywa_message_status__delivered", ids);
    (early.entry[0]!.changes[0]!.value.statuses as { id: string }[])[0]!.id = "wamid.early";
    await insertDelivery(handle.db, early);

    await drain(createWorker(handle.db, { concurrency: 1 }));

    expect((await inboxRow(handle.db, first)).status).toBe("processed");
    expect((await messageByWamid(handle.db, ids.tenantId, "wamid.xyzxyz"))?.status).toBe("read");
    await insertOutboundMessage(handle.db, ids.tenantId, account.id, { wamid: "wamid.early", status: "sent" });
    expect(await withTenant(handle.db, ids.tenantId, (tx) => applyPendingStatuses(tx, "wamid.early"))).toBe(1);
    // The contact exists already (the outbound message's recipient): no contact.created.
    expect((await outboxEvents(handle.db, ids.tenantId)).map((e) => e.name)).toEqual([
      "conversation.opened",
      "message.received",
      "message.status",
      "message.status",
    ]);
  });
});
