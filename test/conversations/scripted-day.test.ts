/**
 * Issue 5 acceptance 1, through the real service (inbox worker, outbox
 * relay, a private NATS): a scripted day — three contacts write in, the
 * business replies, a post-call StartConversation, a close, a reopen by a
 * new inbound message — where ListConversations / ListMessages return
 * exactly the expected pages, the 24-hour window fields are right at each
 * step (the service clock is moved), and every step's event is on the
 * stream exactly once, decoded with the generated types.
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { Account } from "../../gen/whatsapp/v1/account_pb.js";
import { ConversationSource, ConversationStatus, type Conversation } from "../../gen/whatsapp/v1/common_pb.js";
import { ListMessagesRequest_Order } from "../../gen/whatsapp/v1/conversation_pb.js";
import { ConversationCloseReason, EventType } from "../../gen/whatsapp/v1/events_pb.js";
import { MessageDirection, MessageType } from "../../gen/whatsapp/v1/message_pb.js";
import type { CollectedEvent } from "../support/nats-server.js";
import { openWatch, type OpenWatch } from "./watch-support.js";
import { approveTemplate, createAccount, messageIdOf, newWaId, receive, startHarness, TEMPLATE, tenantClients, type Harness, type Tenant } from "./support.js";
import { refusal } from "../support/refusal.js";
import { eventually } from "../kit/eventually.js";

const HOUR = 60 * 60 * 1000;
const MINUTE = 60 * 1000;

let harness: Harness;
let tenant: Tenant;
let account: Account;

const ana = newWaId();
const bruno = newWaId();
const carla = newWaId();
const dario = newWaId(); // called by phone; never wrote

beforeAll(async () => {
  harness = await startHarness({ nats: true });
  tenant = tenantClients(harness, "day");
  account = await createAccount(tenant);
  await approveTemplate(harness, tenant, account);
});

afterAll(async () => {
  await harness?.cleanup();
});

const ids = (conversations: readonly Conversation[]) => conversations.map((c) => c.id);
const seconds = (date: Date) => Math.floor(date.getTime() / 1000) * 1000;

async function allConversationPages(request: Parameters<Tenant["conversations"]["listConversations"]>[0]): Promise<string[][]> {
  const pages: string[][] = [];
  let pageToken = "";
  do {
    const page = await tenant.conversations.listConversations({ ...request, pageToken });
    pages.push(ids(page.conversations));
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return pages;
}

async function tenantEvents(): Promise<CollectedEvent[]> {
  return harness.nats!.collectEvents(harness.stream, `whatsapp.${tenant.id}.>`);
}

describe("a scripted day of conversations", () => {
  it("when contacts write, the business replies, starts a post-call conversation, closes one and a contact writes again, then lists, windows and events are exact at each step", async () => {
    // A dashboard watches the tenant's events live from the start of the day.
    const live = openWatch(tenant.conversations);
    await eventually("the live watch to be attached to the feed", async () => (liveStarted(live) && harness.svc.service.app.eventFeed.watching >= 1 ? true : undefined), { timeoutMs: 10_000 });

    // 09:00 — three contacts write in, a minute apart.
    const dayStart = harness.now();
    const anaAt = new Date(seconds(dayStart));
    await receive(harness, tenant, account, [{ from: ana, body: "Hola, quiero información", at: anaAt }]);
    harness.advance(MINUTE);
    const brunoAt = new Date(seconds(harness.now()));
    await receive(harness, tenant, account, [{ from: bruno, body: "Buenos días", at: brunoAt }]);
    harness.advance(MINUTE);
    const carlaAt = new Date(seconds(harness.now()));
    const [carlaWamid] = await receive(harness, tenant, account, [{ from: carla, body: "¿Tienen envío?", at: carlaAt }]);

    const first = await tenant.conversations.listConversations({ pageSize: 2 });
    expect(first.conversations.map((c) => c.contact!.waId)).toEqual([carla, bruno]);
    expect(first.nextPageToken).not.toBe("");
    const second = await tenant.conversations.listConversations({ pageSize: 2, pageToken: first.nextPageToken });
    expect(second.conversations.map((c) => c.contact!.waId)).toEqual([ana]);
    expect(second.nextPageToken).toBe("");
    const [convCarla, convBruno] = first.conversations as [Conversation, Conversation];
    const convAna = second.conversations[0]!;
    for (const [conversation, at] of [
      [convAna, anaAt],
      [convBruno, brunoAt],
      [convCarla, carlaAt],
    ] as const) {
      expect(conversation.status).toBe(ConversationStatus.ACTIVE);
      expect(conversation.source).toBe(ConversationSource.INBOUND);
      expect(conversation.messageCount).toBe(1n);
      expect(conversation.inboundMessageCount).toBe(1n);
      expect(timestampDate(conversation.lastInboundTime!)).toEqual(at);
      expect(timestampDate(conversation.windowExpireTime!)).toEqual(new Date(at.getTime() + 24 * HOUR));
      expect(conversation.windowOpen).toBe(true);
    }

    // 09:05 — the business answers Ana and Bruno (free-form: their windows are open).
    harness.advance(3 * MINUTE);
    const replyAna = (await tenant.messaging.sendMessage({ accountId: account.id, to: `+${ana}`, content: { case: "text", value: { body: "¡Hola Ana! Claro." } } })).message!;
    await tenant.messaging.sendMessage({ accountId: account.id, to: `+${bruno}`, content: { case: "text", value: { body: "Buenos días Bruno" } } });
    const anaMessages = await tenant.conversations.listMessages({ conversationId: convAna.id });
    expect(anaMessages.messages.map((m) => [m.direction, m.displayText])).toEqual([
      [MessageDirection.OUTBOUND, "¡Hola Ana! Claro."],
      [MessageDirection.INBOUND, "Hola, quiero información"],
    ]);
    expect(anaMessages.messages[0]!.id).toBe(replyAna.id);
    const oldestFirst = await tenant.conversations.listMessages({ conversationId: convAna.id, order: ListMessagesRequest_Order.OLDEST_FIRST, pageSize: 1 });
    expect(oldestFirst.messages.map((m) => m.displayText)).toEqual(["Hola, quiero información"]);
    const oldestNext = await tenant.conversations.listMessages({
      conversationId: convAna.id,
      order: ListMessagesRequest_Order.OLDEST_FIRST,
      pageSize: 1,
      pageToken: oldestFirst.nextPageToken,
    });
    expect(oldestNext.messages.map((m) => m.id)).toEqual([replyAna.id]);
    expect(oldestNext.nextPageToken).toBe("");
    const onlyInbound = await tenant.conversations.listMessages({ conversationId: convAna.id, direction: MessageDirection.INBOUND });
    expect(onlyInbound.messages.map((m) => [m.direction, m.type])).toEqual([[MessageDirection.INBOUND, MessageType.TEXT]]);
    // A token is bound to its order: reusing it with the other one is refused.
    const misuse = await refusal(tenant.conversations.listMessages({ conversationId: convAna.id, pageToken: oldestFirst.nextPageToken }));
    expect(misuse.code).toBe(Code.InvalidArgument);
    const afterReply = (await tenant.conversations.getConversation({ conversationId: convAna.id })).conversation!;
    expect([afterReply.messageCount, afterReply.outboundMessageCount]).toEqual([2n, 1n]);
    expect(afterReply.lastOutboundTime).toBeDefined();

    // 10:00 — after a phone call, the business starts a conversation with Darío.
    harness.advance(55 * MINUTE);
    const start = {
      requestId: `call-${dario}`,
      accountId: account.id,
      phone: `+${dario}`,
      template: { name: TEMPLATE.name, language: TEMPLATE.language },
      context: "Llamada de 10 min: quiere cotizar 3 equipos; enviar catálogo.",
      externalRefs: { call_id: "call-77" },
      metadata: { campaign: "callback" },
      source: ConversationSource.POST_CALL,
    };
    const started = await tenant.conversations.startConversation(start);
    const convDario = started.conversation!;
    expect(convDario.source).toBe(ConversationSource.POST_CALL);
    expect(convDario.context).toBe(start.context);
    expect(convDario.externalRefs).toEqual({ call_id: "call-77" });
    expect(convDario.metadata).toEqual({ campaign: "callback" });
    expect(convDario.contact!.waId).toBe(dario);
    expect(convDario.windowOpen).toBe(false);
    expect(convDario.windowExpireTime).toBeUndefined();
    expect(convDario.lastInboundTime).toBeUndefined();
    expect([convDario.messageCount, convDario.outboundMessageCount]).toEqual([1n, 1n]);
    expect(started.message!.type).toBe(MessageType.TEMPLATE);
    expect(started.message!.conversationId).toBe(convDario.id);
    const jobs = await harness.sql`select count(*)::int as n from control.jobs where kind = 'send_message' and payload->>'messageId' = ${started.message!.id}`;
    expect(jobs[0]!.n).toBe(1);
    // The same request again: the first result, nothing new.
    const repeated = await tenant.conversations.startConversation(start);
    expect([repeated.conversation!.id, repeated.message!.id]).toEqual([convDario.id, started.message!.id]);
    expect((await tenant.conversations.getConversation({ conversationId: convDario.id })).conversation!.messageCount).toBe(1n);

    expect(await allConversationPages({ pageSize: 3 })).toEqual([[convDario.id, convCarla.id, convBruno.id], [convAna.id]]);
    expect(await allConversationPages({ windowOpen: false })).toEqual([[convDario.id]]);
    expect(await allConversationPages({ windowOpen: true, pageSize: 2 })).toEqual([[convCarla.id, convBruno.id], [convAna.id]]);
    expect(await allConversationPages({ source: ConversationSource.POST_CALL })).toEqual([[convDario.id]]);
    expect(await allConversationPages({ contactPhone: `+${bruno}` })).toEqual([[convBruno.id]]);
    expect(await allConversationPages({ accountId: account.id, pageSize: 10 })).toEqual([[convDario.id, convCarla.id, convBruno.id, convAna.id]]);
    // A token made for one filter is refused with another.
    const filtered = await tenant.conversations.listConversations({ pageSize: 1, windowOpen: true });
    expect((await refusal(tenant.conversations.listConversations({ pageSize: 1, pageToken: filtered.nextPageToken }))).code).toBe(Code.InvalidArgument);
    expect((await refusal(tenant.conversations.listConversations({ pageToken: "not-a-token" }))).code).toBe(Code.InvalidArgument);

    // 11:00 — Bruno's conversation is closed by an agent, with a summary.
    harness.advance(HOUR);
    const closed = (
      await tenant.conversations.updateConversation({
        conversation: { id: convBruno.id, status: ConversationStatus.CLOSED, summary: "Saludó; sin pedido." },
        updateMask: { paths: ["status", "summary"] },
      })
    ).conversation!;
    expect(closed.status).toBe(ConversationStatus.CLOSED);
    expect(closed.summary).toBe("Saludó; sin pedido.");
    expect(closed.closeTime).toBeDefined();
    const [closeRow] = await harness.sql.unsafe<{ close_reason: string }[]>(`select close_reason from "${tenant.schema}".conversations where id = $1`, [convBruno.id]);
    expect(closeRow!.close_reason).toBe("api");
    // Closing again changes nothing; reopening is refused.
    await tenant.conversations.updateConversation({ conversation: { id: convBruno.id, status: ConversationStatus.CLOSED }, updateMask: { paths: ["status"] } });
    const reopen = await refusal(tenant.conversations.updateConversation({ conversation: { id: convBruno.id, status: ConversationStatus.ACTIVE }, updateMask: { paths: ["status"] } }));
    expect(reopen.code).toBe(Code.FailedPrecondition);
    // Escalating an open one publishes nothing.
    const escalated = (await tenant.conversations.updateConversation({ conversation: { id: convCarla.id, status: ConversationStatus.ESCALATED, metadata: { agent: "maria" } } })).conversation!;
    expect([escalated.status, escalated.metadata]).toEqual([ConversationStatus.ESCALATED, { agent: "maria" }]);
    expect(await allConversationPages({ status: ConversationStatus.CLOSED })).toEqual([[convBruno.id]]);

    // 12:00 — Bruno writes again: a new conversation opens; the closed one stays closed.
    harness.advance(HOUR);
    const brunoAgainAt = new Date(seconds(harness.now()));
    await receive(harness, tenant, account, [{ from: bruno, body: "Perdón, sí quiero pedir", at: brunoAgainAt }]);
    const brunoConversations = await allConversationPages({ contactId: convBruno.contact!.id });
    expect(brunoConversations).toHaveLength(1);
    const [convBruno2, oldBruno] = brunoConversations[0]!;
    expect(oldBruno).toBe(convBruno.id);
    const reopened = (await tenant.conversations.getConversation({ conversationId: convBruno2! })).conversation!;
    expect([reopened.status, reopened.source, reopened.messageCount]).toEqual([ConversationStatus.ACTIVE, ConversationSource.INBOUND, 1n]);
    expect(timestampDate(reopened.windowExpireTime!)).toEqual(new Date(brunoAgainAt.getTime() + 24 * HOUR));
    expect(await allConversationPages({ status: ConversationStatus.ACTIVE, pageSize: 10 })).toEqual([[convBruno2, convDario.id, convAna.id]]);

    // Next day, 09:30 — Ana's and Carla's windows have closed; Bruno's (he wrote at 12:00) is still open.
    harness.advance(21 * HOUR + 30 * MINUTE);
    const anaLater = (await tenant.conversations.getConversation({ conversationId: convAna.id })).conversation!;
    expect(anaLater.windowOpen).toBe(false);
    expect(timestampDate(anaLater.windowExpireTime!)).toEqual(new Date(anaAt.getTime() + 24 * HOUR));
    expect(await allConversationPages({ windowOpen: true, pageSize: 10 })).toEqual([[convBruno2, convBruno.id]]);
    expect(await allConversationPages({ windowOpen: false, pageSize: 10 })).toEqual([[convDario.id, convCarla.id, convAna.id]]);

    // Each step's event, exactly once on the stream.
    const expected = { "contact.created": 4, "conversation.closed": 1, "conversation.opened": 5, "message.received": 4 };
    const countOf = (all: CollectedEvent[]) => {
      const counts: Record<string, number> = {};
      for (const e of all) if (e.eventType && e.eventType in expected) counts[e.eventType] = (counts[e.eventType] ?? 0) + 1;
      return counts;
    };
    const events = await eventually("every event of the day in the outbox", async () => {
      const all = await tenantEvents();
      const counts = countOf(all);
      return Object.entries(expected).every(([type, n]) => (counts[type] ?? 0) >= n) ? all : undefined;
    }, { timeoutMs: 15_000 });
    expect(countOf(events)).toEqual(expected);
    expect(new Set(events.map((e) => e.msgId)).size).toBe(events.length);
    const byType = (type: string) => events.filter((e) => e.eventType === type).map((e) => e.event!);
    const closedEvents = byType("conversation.closed");
    expect(closedEvents).toHaveLength(1);
    const closedEvent = closedEvents[0]!;
    if (closedEvent.type !== "conversation.closed") throw new Error("not a closed event");
    expect(closedEvent.message.conversationId).toBe(convBruno.id);
    expect(closedEvent.message.reason).toBe(ConversationCloseReason.API);
    expect(closedEvent.message.conversation!.summary).toBe("Saludó; sin pedido.");
    expect(closedEvent.message.conversation!.status).toBe(ConversationStatus.CLOSED);
    const opened = byType("conversation.opened").flatMap((e) => (e.type === "conversation.opened" ? [e.message] : []));
    expect(opened.map((o) => o.conversationId).sort()).toEqual([convAna.id, convBruno.id, convCarla.id, convDario.id, convBruno2!].sort());
    const darioOpened = opened.find((o) => o.conversationId === convDario.id)!;
    expect(darioOpened.conversation!.source).toBe(ConversationSource.POST_CALL);
    expect(darioOpened.conversation!.context).toBe(start.context);
    expect(darioOpened.conversation!.externalRefs).toEqual({ call_id: "call-77" });
    expect(darioOpened.messageId).toBe(started.message!.id);
    const created = byType("contact.created").flatMap((e) => (e.type === "contact.created" ? [e.message.contact!.waId] : []));
    expect(created.sort()).toEqual([ana, bruno, carla, dario].sort());
    // ... and exactly once on WatchEvents: the live watch saw the same events as the stream, none twice;
    // a watch resumed from the day's first event gets all the others.
    // (Only the step events counted above: a send's own status events may still be on their way to either.)
    const stepTypes = new Set([EventType.CONTACT_CREATED, EventType.CONVERSATION_OPENED, EventType.CONVERSATION_CLOSED, EventType.MESSAGE_RECEIVED]);
    const streamIds = events.filter((e) => e.eventType !== undefined && e.eventType in expected).map((e) => e.msgId).sort();
    const stepIds = () => live.events.filter((e) => stepTypes.has(e.type)).map((e) => e.eventId);
    const watched = await eventually("the live watch to receive every event of the day", async () => (stepIds().length >= streamIds.length ? stepIds() : undefined), { timeoutMs: 15_000 });
    expect([...watched].sort()).toEqual(streamIds);
    expect(live.events.filter((e) => e.tenantId !== tenant.id)).toEqual([]);
    const resumed = openWatch(tenant.conversations, { afterEventId: watched[0]! });
    const resumedStepIds = () => resumed.events.filter((e) => stepTypes.has(e.type)).map((e) => e.eventId);
    const replayed = await eventually("the resumed watch to replay the events after the first", async () => (resumedStepIds().length >= watched.length - 1 ? resumedStepIds() : undefined), { timeoutMs: 15_000 });
    expect(replayed).toEqual(watched.slice(1));
    live.abort();
    resumed.abort();
    await Promise.all([live.finished, resumed.finished]);

    expect(await messageIdOf(harness, tenant, carlaWamid!)).toBe(
      (await tenant.conversations.listMessages({ conversationId: convCarla.id })).messages[0]!.id,
    );
  });
});

/** The watch is open (no error yet); events committed from now on reach it. */
function liveStarted(watch: OpenWatch): boolean {
  if (watch.error) throw watch.error;
  return true;
}
