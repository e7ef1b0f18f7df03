/**
 * Routing: phone_number_id → live account → tenant; WABA id for management
 * updates. What no account claims is kept and counted, never retried.
 * Management updates are recorded once for the template and account work.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { inboxWorkerCounters } from "../../src/workers/inbox-worker.js";
import { accounts, webhookUnroutable } from "../../src/adapters/postgres/schema/control.js";
import { providerUpdates } from "../../src/adapters/postgres/schema/tenant.js";
import {
  batch,
  countRows,
  createInboundDatabase,
  createMetaAccount,
  createWorker,
  drain,
  eventsNamed,
  inboxRow,
  inTenant,
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

describe("routing", () => {
  it("when the phone_number_id matches no account, then the delivery is kept as unroutable, counted, and not retried", async () => {
    const ids = uniqueIds("nowhere");
    const payload = metaFixture("pywa_message__text", ids);
    const inboxId = await insertDelivery(database.db, payload);
    const worker = createWorker(database.db);
    const before = inboxWorkerCounters.unroutableChanges;

    await drain(worker);

    const row = await inboxRow(database.db, inboxId);
    expect(row).toMatchObject({ status: "unroutable", attempts: 1, lockedBy: null, error: null });
    expect(row.processedAt).toBeInstanceOf(Date);
    const kept = await database.db.select().from(webhookUnroutable).where(eq(webhookUnroutable.inboxId, inboxId));
    expect(kept).toEqual([
      expect.objectContaining({ provider: "meta", field: "messages", phoneNumberId: ids.phoneNumberId, messageCount: 1, statusCount: 0 }),
    ]);
    expect(kept[0]?.payload).toEqual(payload.entry[0]!.changes[0]!.value);
    expect(worker.stats()).toMatchObject({ unroutable: 1, unroutableChanges: 1, failedAttempts: 0 });
    expect(inboxWorkerCounters.unroutableChanges).toBe(before + 1);

    // Nothing claims it again.
    expect(await worker.runOnce()).toBe(0);
    expect((await inboxRow(database.db, inboxId)).attempts).toBe(1);
  });

  it("when one delivery has a routable and an unroutable change, then the routable one is applied and the other kept", async () => {
    const ids = uniqueIds("mixed");
    const unknown = uniqueIds("unknown");
    await createMetaAccount(database.db, ids);
    const inboxId = await insertDelivery(database.db, batch(metaFixture("pywa_message__text", ids), metaFixture("pywa_message__image", unknown)));

    await drain(createWorker(database.db));

    expect((await inboxRow(database.db, inboxId)).status).toBe("processed");
    expect(eventsNamed(await outboxEvents(database.db, ids.tenantId), "message.received")).toHaveLength(1);
    const kept = await database.db.select().from(webhookUnroutable).where(eq(webhookUnroutable.inboxId, inboxId));
    expect(kept.map((k) => k.phoneNumberId)).toEqual([unknown.phoneNumberId]);
  });

  it("when a delivery carries entries for two tenants, then each tenant gets its own rows and events, in one transaction", async () => {
    const first = uniqueIds("first");
    const second = uniqueIds("second");
    await createMetaAccount(database.db, first);
    await createMetaAccount(database.db, second);
    await insertDelivery(database.db, batch(metaFixture("pywa_message__text", first), metaFixture("pywa_message__text", second)));

    await drain(createWorker(database.db));

    for (const ids of [first, second]) {
      expect(await countRows(database.db, ids.tenantId, "messages")).toBe(1);
      const events = await outboxEvents(database.db, ids.tenantId);
      expect(events.map((e) => e.name)).toEqual(["contact.created", "conversation.opened", "message.received"]);
      expect(events.every((e) => e.subject.startsWith(`whatsapp.${ids.tenantId}.`))).toBe(true);
    }
  });

  it("when the account was deleted, then its number no longer routes", async () => {
    const ids = uniqueIds("deleted");
    const account = await createMetaAccount(database.db, ids);
    await database.db.update(accounts).set({ deleteTime: new Date() }).where(eq(accounts.id, account.id));
    const inboxId = await insertDelivery(database.db, metaFixture("pywa_message__text", ids));
    await drain(createWorker(database.db));
    expect((await inboxRow(database.db, inboxId)).status).toBe("unroutable");
  });
});

describe("management updates", () => {
  it("when a template status update arrives (twice), then it is recorded once in the tenant owning the WABA, naming the account", async () => {
    const ids = uniqueIds("tmpl");
    const account = await createMetaAccount(database.db, ids);
    const payload = metaFixture("pywa_template_status_update__rejected", ids);
    const first = await insertDelivery(database.db, payload);
    const again = await insertDelivery(database.db, payload);

    await drain(createWorker(database.db));

    expect((await inboxRow(database.db, first)).status).toBe("processed");
    expect((await inboxRow(database.db, again)).status).toBe("processed");
    const rows = await inTenant(database.db, ids.tenantId, (tx) => tx.select().from(providerUpdates));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      accountId: account.id,
      provider: "meta",
      wabaId: ids.wabaId,
      field: "message_template_status_update",
      event: "REJECTED",
      occurredTime: new Date(1751247548 * 1000),
      details: { kind: "template_status", template: { templateId: "1689556908129835", name: "abandoned_cart", reason: "INVALID_FORMAT" } },
    });
    expect(rows[0]?.payload).toEqual(payload.entry[0]!.changes[0]!.value);
    // No event yet: template.status belongs to the template work.
    expect(await outboxEvents(database.db, ids.tenantId)).toEqual([]);
  });

  it("when account, quality and preference updates arrive, then each is recorded with its field and event", async () => {
    const ids = uniqueIds("acct");
    await createMetaAccount(database.db, ids);
    await insertDelivery(
      database.db,
      batch(
        metaFixture("pywa_account_update__account_restriction", ids),
        metaFixture("pywa_account_update__account_violation", ids),
        metaFixture("ref_phone_number_quality_update__throughput_upgrade", ids),
        metaFixture("pywa_template_quality_update__yellow", ids),
        metaFixture("pywa_template_category_update__marketing", ids),
        metaFixture("pywa_user_marketing_preferences__resume", ids),
      ),
    );
    await drain(createWorker(database.db));

    const rows = await inTenant(database.db, ids.tenantId, (tx) => tx.select().from(providerUpdates));
    expect(rows.map((r) => [r.field, r.event]).sort()).toEqual(
      [
        ["account_update", "ACCOUNT_RESTRICTION"],
        ["account_update", "ACCOUNT_VIOLATION"],
        ["message_template_quality_update", null],
        ["phone_number_quality_update", "THROUGHPUT_UPGRADE"],
        ["template_category_update", null],
        ["user_preferences", null],
      ].sort(),
    );
    expect(rows.find((r) => r.field === "user_preferences")?.phoneNumberId).toBe(ids.phoneNumberId);
  });

  it("when account-level errors arrive on the messages field, then they are recorded for the account", async () => {
    const ids = uniqueIds("errs");
    const account = await createMetaAccount(database.db, ids);
    await insertDelivery(database.db, metaFixture("ref_value_errors__130429", ids));
    await drain(createWorker(database.db));
    const rows = await inTenant(database.db, ids.tenantId, (tx) => tx.select().from(providerUpdates));
    expect(rows).toEqual([
      expect.objectContaining({ accountId: account.id, field: "messages", event: "errors", details: { kind: "errors", errors: [expect.objectContaining({ code: 130429 })] } }),
    ]);
  });

  it("when a management update names a WABA no account belongs to, then it is kept as unroutable", async () => {
    const ids = uniqueIds("nowaba");
    const inboxId = await insertDelivery(database.db, metaFixture("pywa_account_update__account_deleted", ids));
    await drain(createWorker(database.db));
    expect((await inboxRow(database.db, inboxId)).status).toBe("unroutable");
    const kept = await database.db.select().from(webhookUnroutable).where(eq(webhookUnroutable.inboxId, inboxId));
    expect(kept).toEqual([expect.objectContaining({ field: "account_update", wabaId: ids.wabaId, payload: { event: "ACCOUNT_DELETED" } })]);
  });
});

describe("bodies that are not WhatsApp webhooks", () => {
  it("when a stored body is not JSON or not a WABA webhook, then it is marked malformed and not retried", async () => {
    const notJson = await insertDelivery(database.db, "{not json");
    const notWaba = await insertDelivery(database.db, { object: "page", entry: [] });
    const worker = createWorker(database.db);
    await drain(worker);
    expect(await inboxRow(database.db, notJson)).toMatchObject({ status: "malformed", error: expect.stringContaining("not JSON") });
    expect(await inboxRow(database.db, notWaba)).toMatchObject({ status: "malformed", error: expect.stringContaining("whatsapp_business_account") });
    expect(worker.stats().malformed).toBe(2);
  });
});
