/**
 * Issue 14 acceptance 1 and 2, through the real service: the Graph API
 * simulator holds its answers while signed status webhooks for the wamids it
 * handed out arrive first (shuffled, duplicated), then answers; more
 * statuses come after the answer; some sends are refused (131026, 131047)
 * and some messages fail by status webhook (131049). The outbox — what the
 * relay publishes to JetStream in seq order — and WatchEvents must tell each
 * message's story forward (SENDING → SENT → …, READ never before SENT), one
 * event per change, and every failed message must have exactly one
 * `message.status` to FAILED and one `message.failed`, both with Meta's code.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { ConversationService } from "../../gen/whatsapp/v1/conversation_pb.js";
import { EventType, MessageFailedEventSchema, MessageStatusEventSchema } from "../../gen/whatsapp/v1/events_pb.js";
import { MessageStatus } from "../../gen/whatsapp/v1/message_pb.js";
import { queryRows, withTenant } from "../../src/adapters/postgres/index.js";
import { outbox } from "../../src/adapters/postgres/schema/control.js";
import { pendingStatuses } from "../../src/adapters/postgres/schema/tenant.js";
import { sql } from "drizzle-orm";
import { openWatch } from "../conversations/watch-support.js";
import { eventually } from "../kit/eventually.js";
import { GraphSimulator } from "../support/graph-simulator.js";
import { deliver, messagesChange, metaEnvelope, metaError, statusUpdate, type StatusName } from "../support/meta-simulator.js";
import { clientFor, closeClientSessions, type TestService } from "../support/service.js";
import { createAccount, messageStates, queueMessages, recipient, settled, startOutboundService, type TestAccount } from "./support/outbound-harness.js";

const APP_SECRET = "status-events-app-secret";
const RANK: Record<number, number> = { [MessageStatus.SENDING]: 0, [MessageStatus.SENT]: 1, [MessageStatus.DELIVERED]: 2, [MessageStatus.READ]: 3, [MessageStatus.FAILED]: 4 };

interface Story {
  transitions: [MessageStatus, MessageStatus][];
  statusErrors: number[];
  failed: number[];
}

describe("status events tell each message's story forward", () => {
  let simulator: GraphSimulator;
  let svc: TestService;
  let account: TestAccount;

  beforeAll(async () => {
    simulator = await GraphSimulator.start();
    svc = await startOutboundService({
      simulator,
      env: { META_APP_SECRET: APP_SECRET },
      // Held answers must not time out (that would be an unknown outcome, another story).
      overrides: { providers: { graphTimeoutMs: 60_000, sandbox: { deliveredAfterMs: 200, readAfterMs: 400 } } },
    });
    account = await createAccount(svc.service.app, { phoneNumberId: `1${String(Date.now()).slice(-10)}` });
  });
  let watch: ReturnType<typeof openWatch> | undefined;

  afterAll(async () => {
    // A test that failed early must not leave sends held or a stream open: the service's stop waits for both.
    simulator?.releaseAnswers();
    watch?.abort();
    closeClientSessions();
    await svc?.cleanup();
    await simulator?.close();
  });

  async function deliverStatus(wamid: string, to: string, status: StatusName, duplicated: boolean): Promise<void> {
    const errors = status === "failed" ? [metaError(131049, "This message was not delivered to maintain healthy ecosystem engagement.")] : undefined;
    const payload = metaEnvelope(`waba-${account.phoneNumberId}`, [
      messagesChange({ phoneNumberId: account.phoneNumberId, statuses: [statusUpdate({ id: wamid, status, recipientId: to, errors })] }),
    ]);
    const response = await deliver(`${svc.service.url}/webhook`, payload, { appSecret: APP_SECRET, duplicates: duplicated ? 1 : 0 });
    expect(response.status).toBe(200);
  }

  it("when statuses beat the Graph API answer, come shuffled and twice, and some sends fail, then every message's events are forward, one per change, and each failure has one FAILED status and one message.failed with Meta's code", async () => {
    const app = svc.service.app;
    const stream = openWatch(clientFor(ConversationService, svc.service.url, account.tenantId), {
      types: [EventType.MESSAGE_STATUS, EventType.MESSAGE_FAILED],
    });
    watch = stream;

    // Statuses per message (before shuffling): the webhooks may say read without delivered, or fail after sent.
    const plans: StatusName[][] = [["sent", "delivered", "read"], ["read", "delivered"], ["sent", "failed"], ["delivered", "read", "sent"]];
    const early = Array.from({ length: 8 }, () => recipient());
    const late = Array.from({ length: 4 }, () => recipient());
    const refused = [recipient(), recipient(), recipient()];
    simulator.failRecipient(refused[0]!, 131026);
    simulator.failRecipient(refused[1]!, 131026);
    simulator.failRecipient(refused[2]!, 131047);
    const everyone = [...early, ...late, ...refused];

    simulator.holdAnswers = true;
    const ids = await queueMessages(app, account, everyone.map((to) => ({ to })));
    const wamidOf = await eventually(
      "every send accepted with its answer held, and the refusals answered",
      () => {
        const mine = simulator.requests.filter((r) => ids.includes(r.messageId));
        const accepted = mine.filter((r) => r.wamid !== undefined);
        const refusals = mine.filter((r) => r.code !== undefined);
        return accepted.length === early.length + late.length && refusals.length === refused.length ? new Map(accepted.map((r) => [r.to, r.wamid!])) : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(simulator.requests.filter((r) => r.code !== undefined).map((r) => r.code).sort()).toEqual([131026, 131026, 131047]);

    // Early: the status webhooks come while the answers are held; each waits in pending_statuses.
    const statuses = (to: string, i: number) => shuffle(plans[i % plans.length]!).map((status, j) => ({ to, status, duplicated: (i + j) % 2 === 0 }));
    const earlyStatuses = shuffle(early.flatMap(statuses));
    for (const s of earlyStatuses) await deliverStatus(wamidOf.get(s.to)!, s.to, s.status, s.duplicated);
    await eventually(
      "the early statuses kept",
      async () => {
        const [row] = await withTenant(app.database.db, account.tenantId, (tx) => queryRows<{ n: number }>(tx, sql`select count(*)::int as n from ${pendingStatuses}`));
        return Number(row?.n) === earlyStatuses.length ? true : undefined;
      },
      { timeoutMs: 60_000, everyMs: 200 },
    );
    simulator.releaseAnswers();
    await settled(app.database.db, account.tenantId, ids);

    // Late: after the answer was recorded.
    const lateStatuses = shuffle(late.flatMap((to, i) => statuses(to, i + 1)));
    for (const s of lateStatuses) await deliverStatus(wamidOf.get(s.to)!, s.to, s.status, s.duplicated);

    const finalOf = (to: string, i: number): string => {
      if (refused.includes(to)) return "failed";
      const plan = plans[i % plans.length]!;
      return plan.includes("failed") ? "failed" : plan.includes("read") ? "read" : "delivered";
    };
    const expected = new Map(ids.map((id, n) => [id, finalOf(everyone[n]!, n < early.length ? n : n - early.length + 1)]));
    await eventually(
      "every message at its final status",
      async () => {
        const states = await messageStates(app.database.db, account.tenantId, ids);
        return states.every((s) => s.status === expected.get(s.id)) ? states : undefined;
      },
      { timeoutMs: 60_000, everyMs: 200 },
    );

    // The outbox, in seq order: what the relay publishes and WatchEvents replays.
    const rows = await app.database.db
      .select({ id: outbox.id, type: outbox.eventType, payload: outbox.payload })
      .from(outbox)
      .where(eq(outbox.tenantId, account.tenantId))
      .orderBy(asc(outbox.seq));
    const stories = new Map<string, Story>(ids.map((id) => [id, { transitions: [], statusErrors: [], failed: [] }]));
    for (const row of rows) {
      if (row.type === "message.status") {
        const event = fromBinary(MessageStatusEventSchema, row.payload);
        const story = stories.get(event.messageId)!;
        story.transitions.push([event.previousStatus, event.status]);
        if (event.status === MessageStatus.FAILED) story.statusErrors.push(event.error?.code ?? -1);
      } else if (row.type === "message.failed") {
        const event = fromBinary(MessageFailedEventSchema, row.payload);
        stories.get(event.messageId)!.failed.push(event.error?.code ?? -1);
      }
    }
    ids.forEach((id, n) => {
      const story = stories.get(id)!;
      const to = everyone[n]!;
      // Forward and chained: each event starts where the one before ended, from SENDING; no status twice.
      let at: MessageStatus = MessageStatus.SENDING;
      for (const [from, status] of story.transitions) {
        expect(from, `message ${n}: ${fmt(story.transitions)}`).toBe(at);
        expect(RANK[status]!, `message ${n}: ${fmt(story.transitions)}`).toBeGreaterThan(RANK[at]!);
        at = status;
      }
      expect(MessageStatus[at].toLowerCase(), `message ${n} ends at its stored status`).toBe(expected.get(id));
      if (expected.get(id) === "failed") {
        const code = refused.includes(to) ? simulator.requests.find((r) => r.to === to)!.code! : 131049;
        expect(story.statusErrors, `message ${n}: one message.status to FAILED with Meta's code`).toEqual([code]);
        expect(story.failed, `message ${n}: one message.failed with Meta's code`).toEqual([code]);
      } else {
        expect(story.failed, `message ${n}: no message.failed`).toEqual([]);
      }
    });

    // WatchEvents streams the same events in the same order.
    const outboxIds = rows.filter((r) => r.type === "message.status" || r.type === "message.failed").map((r) => r.id);
    await eventually("WatchEvents caught up", () => (stream.events.length >= outboxIds.length ? true : undefined), { timeoutMs: 60_000 });
    stream.abort();
    expect(stream.ids()).toEqual(outboxIds);
    watch = undefined;
  });
});

function shuffle<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function fmt(transitions: [MessageStatus, MessageStatus][]): string {
  return transitions.map(([a, b]) => `${MessageStatus[a]}→${MessageStatus[b]}`).join(", ");
}
