/**
 * The reading and repairing side of MessagingService against the real
 * service: GetMessage for both directions and across tenants, the failed
 * list, RetryMessage, GetQueueStats and MarkAsRead (through the real Meta
 * client to a local Graph API stand-in). The sender is off: the tests put
 * messages in the states the delivery work would, directly in the rows.
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import type { Account } from "../../gen/whatsapp/v1/account_pb.js";
import { MessageDirection, MessageStatus, MessageType } from "../../gen/whatsapp/v1/message_pb.js";
import {
  contactWrites,
  createAccount,
  messageRow,
  newRecipient,
  sendJobsFor,
  startGraphStub,
  startMessagingHarness,
  tenantClients,
  type MessagingHarness,
  type Tenant,
} from "./support.js";
import { refusal } from "../support/refusal.js";

let graph: Awaited<ReturnType<typeof startGraphStub>>;
let harness: MessagingHarness;
let tenant: Tenant;
let account: Account;
const writer = newRecipient();
let inbound: { id: string; wamid: string };

beforeAll(async () => {
  graph = await startGraphStub();
  harness = await startMessagingHarness({ WHATSAPP_GRAPH_URL: graph.url });
  tenant = tenantClients(harness, "read");
  account = await createAccount(tenant);
  inbound = await contactWrites(harness, tenant, account, writer.slice(1), "Quiero un café");
});

afterAll(async () => {
  await harness?.cleanup();
  await graph?.close();
});

async function sendText(body: string, to = writer): Promise<string> {
  const { message } = await tenant.messaging.sendMessage({ accountId: account.id, to, content: { case: "text", value: { body } } });
  return message!.id;
}

/** What the sender does when a send fails for good. */
async function failMessage(id: string, failedAgoSeconds: number, code = 131026): Promise<void> {
  await harness.sql.unsafe(
    `update "${tenant.schema}".messages
        set status = 'failed', failed_time = now() - make_interval(secs => $2), error_code = $3, error_title = 'Message undeliverable', attempt_count = 1
      where id = $1`,
    [id, failedAgoSeconds, String(code)],
  );
}

describe("GetMessage", () => {
  it("when an outbound message is read back, then it shows its content, parties, status and caller's fields", async () => {
    const { message: sent } = await tenant.messaging.sendMessage({
      accountId: account.id,
      to: writer,
      idempotencyKey: `get-${Date.now()}`,
      metadata: { campaign: "c1" },
      content: { case: "text", value: { body: "Your table is ready" } },
    });
    const { message } = await tenant.messaging.getMessage({ messageId: sent!.id });
    expect(message).toMatchObject({
      id: sent!.id,
      accountId: account.id,
      direction: MessageDirection.OUTBOUND,
      from: account.displayPhoneNumber,
      to: writer,
      type: MessageType.TEXT,
      status: MessageStatus.QUEUED,
      displayText: "Your table is ready",
      content: { case: "text", value: { body: "Your table is ready" } },
      metadata: { campaign: "c1" },
      idempotencyKey: sent!.idempotencyKey,
      contact: { waId: writer.slice(1), phone: writer },
    });
    expect(message!.conversationId).not.toBe("");
  });

  it("when an inbound message is read, then it carries the normalised inbound message", async () => {
    const { message } = await tenant.messaging.getMessage({ messageId: inbound.id });
    expect(message).toMatchObject({
      direction: MessageDirection.INBOUND,
      status: MessageStatus.RECEIVED,
      wamid: inbound.wamid,
      from: writer,
      to: account.displayPhoneNumber,
      displayText: "Quiero un café",
      content: { case: "inbound", value: { wamid: inbound.wamid, text: "Quiero un café", type: MessageType.TEXT } },
    });
  });

  it("when another tenant asks for the message (with or without data of its own), then NotFound", async () => {
    const stranger = tenantClients(harness, "stranger");
    expect((await refusal(stranger.messaging.getMessage({ messageId: inbound.id }))).code).toBe(Code.NotFound);
    await createAccount(stranger, "+14155552673");
    expect((await refusal(stranger.messaging.getMessage({ messageId: inbound.id }))).code).toBe(Code.NotFound);
  });
});

describe("ListFailedMessages and RetryMessage", () => {
  it("when messages failed at different times, then they list newest failure first, page by page, filtered by time", async () => {
    const other = await createAccount(tenant, "+14155552674");
    const ids = [await sendText("f1"), await sendText("f2"), await sendText("f3")];
    await failMessage(ids[0]!, 30);
    await failMessage(ids[1]!, 20);
    await failMessage(ids[2]!, 10);

    const first = await tenant.messaging.listFailedMessages({ pageSize: 2, accountId: account.id });
    expect(first.messages.map((m) => m.id)).toEqual([ids[2], ids[1]]);
    expect(first.messages[0]).toMatchObject({ status: MessageStatus.FAILED, error: { code: 131026, title: "Message undeliverable", retryable: false } });
    const second = await tenant.messaging.listFailedMessages({ pageSize: 2, accountId: account.id, pageToken: first.nextPageToken });
    expect(second.messages.map((m) => m.id)).toEqual([ids[0]]);
    expect(second.nextPageToken).toBe("");

    const recent = await tenant.messaging.listFailedMessages({ accountId: account.id, minFailTime: timestampFromDate(new Date(Date.now() - 25_000)) });
    expect(recent.messages.map((m) => m.id)).toEqual([ids[2], ids[1]]);
    expect((await tenant.messaging.listFailedMessages({ accountId: other.id })).messages).toEqual([]);
    expect((await refusal(tenant.messaging.listFailedMessages({ pageToken: "not-a-token" }))).code).toBe(Code.InvalidArgument);
  });

  it("when a failed message is retried, then it is queued again with attempts from zero, no error and a new send job", async () => {
    const id = await sendText("retry me");
    await failMessage(id, 1);
    const { message } = await tenant.messaging.retryMessage({ messageId: id });
    expect(message).toMatchObject({ id, status: MessageStatus.QUEUED, attemptCount: 0 });
    expect(message!.error).toBeUndefined();
    expect(await messageRow(harness, tenant, id)).toMatchObject({ status: "queued", attempt_count: 0 });
    expect(await sendJobsFor(harness, id)).toHaveLength(2);
  });

  it("when a message that has not failed (or an inbound one) is retried, then FailedPrecondition; an unknown id is NotFound", async () => {
    const id = await sendText("still queued");
    const queued = await refusal(tenant.messaging.retryMessage({ messageId: id }));
    expect(queued.code).toBe(Code.FailedPrecondition);
    expect(queued.findDetails(ErrorInfoSchema)[0]?.reason).toBe("MESSAGE_NOT_FAILED");
    expect((await refusal(tenant.messaging.retryMessage({ messageId: inbound.id }))).code).toBe(Code.FailedPrecondition);
    expect((await refusal(tenant.messaging.retryMessage({ messageId: "0190c3d4-0000-7000-8000-000000000000" }))).code).toBe(Code.NotFound);
    expect(await sendJobsFor(harness, id)).toHaveLength(1);
  });
});

describe("GetQueueStats", () => {
  it("when an account has queued, retrying, sending and failed messages, then each is counted with the oldest waiting age, rate and circuit", async () => {
    const stats = await createAccount(tenant, "+14155552675");
    const to = newRecipient();
    await contactWrites(harness, tenant, stats, to.slice(1));
    const send = async () =>
      (await tenant.messaging.sendMessage({ accountId: stats.id, to, content: { case: "text", value: { body: "x" } } })).message!.id;
    const [queued, retrying, sending, failed, oldFailed] = [await send(), await send(), await send(), await send(), await send()];
    const set = (id: string, assignments: string) => harness.sql.unsafe(`update "${tenant.schema}".messages set ${assignments} where id = $1`, [id]);
    await set(queued, "create_time = now() - interval '90 seconds'");
    await set(retrying, "attempt_count = 2, next_attempt_time = now() + interval '5 seconds'");
    await set(sending, "status = 'sending'");
    await set(failed, "status = 'failed', failed_time = now()");
    await set(oldFailed, "status = 'failed', failed_time = now() - interval '2 days'");

    const { accounts } = await tenant.messaging.getQueueStats({ accountId: stats.id });
    expect(accounts).toHaveLength(1);
    expect(accounts[0]).toMatchObject({ accountId: stats.id, queued: 1n, retrying: 1n, sending: 1n, failed: 1n, rateLimitPerSecond: 80, circuitOpen: false });
    expect(Number(accounts[0]!.oldestAge!.seconds)).toBeGreaterThanOrEqual(89);

    await harness.sql`insert into control.send_pacing (account_id, circuit_state, circuit_open_until) values (${stats.id}, 'open', now() + interval '1 minute')`;
    expect((await tenant.messaging.getQueueStats({ accountId: stats.id })).accounts[0]!.circuitOpen).toBe(true);

    const all = await tenant.messaging.getQueueStats({});
    expect(all.accounts.map((a) => a.accountId)).toContain(account.id);
    expect(all.accounts.map((a) => a.accountId)).toContain(stats.id);
  });

  it("when the only unsettled message has been stuck in sending for minutes, then both ages show it (not zero)", async () => {
    const stuck = await createAccount(tenant, "+14155552676");
    const to = newRecipient();
    await contactWrites(harness, tenant, stuck, to.slice(1));
    const { message } = await tenant.messaging.sendMessage({ accountId: stuck.id, to, content: { case: "text", value: { body: "stuck" } } });
    await harness.sql.unsafe(
      `update "${tenant.schema}".messages set status = 'sending', attempt_count = 1, create_time = now() - interval '10 minutes', update_time = now() - interval '7 minutes' where id = $1`,
      [message!.id],
    );

    const [stats] = (await tenant.messaging.getQueueStats({ accountId: stuck.id })).accounts;
    expect(stats).toMatchObject({ queued: 0n, retrying: 0n, sending: 1n });
    expect(Number(stats!.oldestAge!.seconds)).toBeGreaterThanOrEqual(599);
    expect(Number(stats!.oldestSendingAge!.seconds)).toBeGreaterThanOrEqual(419);
    expect(Number(stats!.oldestSendingAge!.seconds)).toBeLessThan(599);
  });

  it("when the account is another tenant's, then NotFound", async () => {
    const stranger = tenantClients(harness, "stats");
    expect((await refusal(stranger.messaging.getQueueStats({ accountId: account.id }))).code).toBe(Code.NotFound);
    expect((await stranger.messaging.getQueueStats({})).accounts).toEqual([]);
  });
});

describe("MarkAsRead", () => {
  it("when an inbound message is marked read with typing, then Meta gets the read receipt and the message (and earlier ones) are READ", async () => {
    const later = await contactWrites(harness, tenant, account, writer.slice(1), "¿Hay mesa?");
    await tenant.messaging.markAsRead({ messageId: later.id, typingIndicator: true });

    expect(graph.requests.at(-1)).toEqual({
      path: expect.stringMatching(new RegExp(`/${account.phoneNumberId}/messages$`)) as unknown as string,
      authorization: "Bearer test-token",
      body: { messaging_product: "whatsapp", status: "read", message_id: later.wamid, typing_indicator: { type: "text" } },
    });
    for (const id of [later.id, inbound.id]) {
      const { message } = await tenant.messaging.getMessage({ messageId: id });
      expect(message).toMatchObject({ status: MessageStatus.READ });
      expect(message!.readTime).toBeDefined();
    }
  });

  it("when the message is outbound, then FailedPrecondition and nothing is sent to Meta", async () => {
    const before = graph.requests.length;
    const error = await refusal(tenant.messaging.markAsRead({ messageId: await sendText("mine") }));
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(graph.requests).toHaveLength(before);
  });
});
