/**
 * The inactivity job: open conversations idle longer than the tenant's
 * timeout are closed (reason `inactivity`) with one conversation.closed
 * event each, even with two replicas sweeping at the same moment; the
 * contact's next message opens a new conversation.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";

import type { Account } from "../../gen/whatsapp/v1/account_pb.js";
import { ConversationSource, ConversationStatus } from "../../gen/whatsapp/v1/common_pb.js";
import { ConversationCloseReason, ConversationClosedEventSchema } from "../../gen/whatsapp/v1/events_pb.js";
import { PostgresInactiveConversations } from "../../src/adapters/postgres/stores/inactive-conversations.js";
import { InactivityCloser } from "../../src/workers/inactivity-closer.js";
import { createLogger } from "../../src/observability/logger.js";
import { createAccount, newWaId, receive, startHarness, tenantClients, type Harness, type Tenant } from "./support.js";
import { eventually } from "../kit/eventually.js";

const HOUR = 60 * 60 * 1000;
const silent = createLogger({ level: "silent", pretty: false });

describe("inactivity job, two replicas at once", () => {
  let harness: Harness;
  let tenant: Tenant;
  let account: Account;

  beforeAll(async () => {
    harness = await startHarness(); // no scheduler worker: the test runs the closers itself
    tenant = tenantClients(harness, "idle");
    account = await createAccount(tenant);
  });
  afterAll(async () => {
    await harness?.cleanup();
  });

  it("when 30 conversations are idle past the tenant's 1-hour timeout and two closers sweep concurrently, then each closes once with one event, and active ones stay open", async () => {
    await tenant.conversations.updateConversationSettings({ settings: { inactivityTimeoutSeconds: 3600 }, updateMask: { paths: ["inactivity_timeout_seconds"] } });
    const idle = Array.from({ length: 30 }, () => newWaId());
    await receive(harness, tenant, account, idle.map((from) => ({ from, body: "hola" })));
    harness.advance(2 * HOUR);
    const fresh = newWaId();
    await receive(harness, tenant, account, [{ from: fresh, body: "sigo aquí" }]);
    // An idle one that the business wrote to 30 minutes ago is active, not idle.
    harness.advance(-30 * 60 * 1000);
    await tenant.messaging.sendMessage({ accountId: account.id, to: `+${idle[0]}`, content: { case: "text", value: { body: "¿Le ayudo en algo más?" } } });
    harness.advance(30 * 60 * 1000);

    const closer = () =>
      new InactivityCloser({
        conversations: new PostgresInactiveConversations(harness.svc.service.app.database.db),
        logger: silent,
        newId: uuidv7,
        now: harness.now,
        defaultTimeoutSeconds: 24 * 3600,
        intervalMs: 60_000,
        batchSize: 4,
      });
    const [a, b] = await Promise.all([closer().sweep(), closer().sweep()]);
    expect(a + b).toBe(29);

    const rows = await harness.sql.unsafe<{ id: string; wa_id: string; status: string; close_reason: string | null; close_time: Date | null }[]>(
      `select c.id, k.wa_id, c.status, c.close_reason, c.close_time from "${tenant.schema}".conversations c join "${tenant.schema}".contacts k on k.id = c.contact_id`,
    );
    const closed = rows.filter((r) => r.status === "closed");
    expect(closed.map((r) => r.wa_id).sort()).toEqual(idle.slice(1).sort());
    expect(new Set(closed.map((r) => r.close_reason))).toEqual(new Set(["inactivity"]));
    expect(rows.filter((r) => r.status === "active").map((r) => r.wa_id).sort()).toEqual([idle[0], fresh].sort());

    const events = await harness.sql<{ payload: Buffer }[]>`select payload from control.outbox where tenant_id = ${tenant.id} and event_type = 'conversation.closed'`;
    const decoded = events.map((e) => fromBinary(ConversationClosedEventSchema, e.payload));
    expect(decoded.map((e) => e.conversationId).sort()).toEqual(closed.map((r) => r.id).sort());
    expect(new Set(decoded.map((e) => e.reason))).toEqual(new Set([ConversationCloseReason.INACTIVITY]));
    expect(decoded.every((e) => e.conversation?.status === ConversationStatus.CLOSED && e.tenantId === tenant.id && e.accountId === account.id)).toBe(true);

    // A second sweep finds nothing more.
    expect(await closer().sweep()).toBe(0);
  });
});

describe("inactivity job as the service's scheduler worker", () => {
  let harness: Harness;
  let tenant: Tenant;
  let account: Account;

  beforeAll(async () => {
    harness = await startHarness({ env: { WORKERS: "inbox,scheduler", INACTIVITY_SWEEP_INTERVAL_MS: "100" } });
    tenant = tenantClients(harness, "idle-svc");
    account = await createAccount(tenant);
  });
  afterAll(async () => {
    await harness?.cleanup();
  });

  it("when a conversation has been idle past the default 24 hours, then the worker closes it and the contact's next message opens a new one", async () => {
    const waId = newWaId();
    await receive(harness, tenant, account, [{ from: waId, body: "hola" }]);
    const [first] = (await tenant.conversations.listConversations({ contactPhone: `+${waId}` })).conversations;
    expect(first!.status).toBe(ConversationStatus.ACTIVE);

    harness.advance(24 * HOUR + 60_000);
    await eventually("the idle conversation to be closed", async () => {
      const { conversation } = await tenant.conversations.getConversation({ conversationId: first!.id });
      return conversation!.status === ConversationStatus.CLOSED ? conversation : undefined;
    });

    await receive(harness, tenant, account, [{ from: waId, body: "¿siguen ahí?" }]);
    const after = (await tenant.conversations.listConversations({ contactPhone: `+${waId}` })).conversations;
    expect(after.map((c) => [c.status, c.source])).toEqual([
      [ConversationStatus.ACTIVE, ConversationSource.INBOUND],
      [ConversationStatus.CLOSED, ConversationSource.INBOUND],
    ]);
    expect(after[1]!.id).toBe(first!.id);
    expect(after[0]!.messageCount).toBe(1n);
  });
});
