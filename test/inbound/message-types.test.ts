/**
 * Acceptance 1: every inbound message type and status in the reference, sent
 * as Meta sends it, ends as the right normalised row and exactly one event on
 * whatsapp.{tenant}.message.received / .message.status.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { MessageStatus, MessageType } from "../../gen/whatsapp/v1/message_pb.js";
import { ConversationSource, ConversationStatus } from "../../gen/whatsapp/v1/common_pb.js";
import { Provider } from "../../gen/whatsapp/v1/account_pb.js";
import {
  countRows,
  createInboundDatabase,
  createMetaAccount,
  createWorker,
  drain,
  eventsNamed,
  inboxRow,
  insertDelivery,
  insertOutboundMessage,
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

/** fixture → the type Meta's message normalises to, and a check of its content. */
const MESSAGE_CASES: { fixture: string; type: MessageType; rowType: string; content: string; check?: (m: Record<string, unknown>) => void }[] = [
  { fixture: "pywa_message__text", type: MessageType.TEXT, rowType: "text", content: "Body Text" },
  { fixture: "pywa_message__image", type: MessageType.IMAGE, rowType: "image", content: "[image]" },
  { fixture: "pywa_message__media_with_url", type: MessageType.IMAGE, rowType: "image", content: "[image]" },
  { fixture: "pywa_message__video", type: MessageType.VIDEO, rowType: "video", content: "caption" },
  { fixture: "pywa_message__audio", type: MessageType.AUDIO, rowType: "audio", content: "[audio]" },
  { fixture: "pywa_message__voice", type: MessageType.AUDIO, rowType: "audio", content: "[audio]" },
  { fixture: "pywa_message__document", type: MessageType.DOCUMENT, rowType: "document", content: "caption" },
  { fixture: "pywa_message__static_sticker", type: MessageType.STICKER, rowType: "sticker", content: "[sticker]" },
  { fixture: "pywa_message__animated_sticker", type: MessageType.STICKER, rowType: "sticker", content: "[sticker]" },
  { fixture: "pywa_message__current_location", type: MessageType.LOCATION, rowType: "location", content: "[location 12.25089,43.90539]" },
  { fixture: "pywa_message__chosen_location", type: MessageType.LOCATION, rowType: "location", content: "[location] Facebook HQ, 1 Hacker Way, Menlo Park, CA 94025" },
  { fixture: "pywa_message__contacts", type: MessageType.CONTACTS, rowType: "contacts", content: "[contacts] Chandler Bing, Monica, Rachel Green" },
  { fixture: "pywa_callback_button__button", type: MessageType.INTERACTIVE, rowType: "interactive", content: "title" },
  { fixture: "pywa_callback_selection__callback", type: MessageType.INTERACTIVE, rowType: "interactive", content: "title" },
  { fixture: "pywa_callback_selection__description", type: MessageType.INTERACTIVE, rowType: "interactive", content: "title" },
  { fixture: "pywa_flow_completion__completion", type: MessageType.INTERACTIVE, rowType: "interactive", content: "Sent" },
  { fixture: "pywa_flow_completion__without_flow_token", type: MessageType.INTERACTIVE, rowType: "interactive", content: "Sent" },
  { fixture: "pywa_message__interactive_message_with_err", type: MessageType.UNSUPPORTED, rowType: "unsupported", content: "[unsupported: interactive]" },
  { fixture: "pywa_callback_button__quick_reply", type: MessageType.BUTTON, rowType: "button", content: "title" },
  { fixture: "pywa_callback_button__quick_reply_without_context", type: MessageType.BUTTON, rowType: "button", content: "title" },
  { fixture: "pywa_message__reaction", type: MessageType.REACTION, rowType: "reaction", content: "😮" },
  { fixture: "pywa_message__unreaction_empty", type: MessageType.REACTION, rowType: "reaction", content: "[reaction removed]" },
  { fixture: "pywa_message__unreaction_no_emoji", type: MessageType.REACTION, rowType: "reaction", content: "[reaction removed]" },
  { fixture: "pywa_message__order", type: MessageType.ORDER, rowType: "order", content: "[order] 3 item(s)" },
  { fixture: "pywa_message__referral", type: MessageType.TEXT, rowType: "text", content: "BODY" },
  { fixture: "ref_message__ctwa_referral", type: MessageType.TEXT, rowType: "text", content: "Can I get more info about this?" },
  { fixture: "ref_message__referred_product", type: MessageType.TEXT, rowType: "text", content: "Is this in stock?" },
  { fixture: "pywa_message__reply", type: MessageType.TEXT, rowType: "text", content: "replied text" },
  { fixture: "pywa_message__forwarded", type: MessageType.TEXT, rowType: "text", content: "forwarded text" },
  { fixture: "pywa_message__forwarded_many_times", type: MessageType.TEXT, rowType: "text", content: "text forwarded many times" },
  { fixture: "pywa_system__phone_number_change", type: MessageType.SYSTEM, rowType: "system", content: "User A changed from 972987654321 to 972912345678" },
  { fixture: "pywa_system__identity_change", type: MessageType.SYSTEM, rowType: "system", content: "User identity changed" },
  { fixture: "pywa_message__unsupported", type: MessageType.UNSUPPORTED, rowType: "unsupported", content: "[unsupported]" },
  { fixture: "pywa_message__unsupported_with_type", type: MessageType.UNSUPPORTED, rowType: "unsupported", content: "[unsupported: pool]" },
  { fixture: "ref_message__newer_type", type: MessageType.UNSUPPORTED, rowType: "unsupported", content: "[unsupported: poll_vote]" },
];

describe("inbound messages of every type", () => {
  for (const testCase of MESSAGE_CASES) {
    it(`when Meta delivers ${testCase.fixture}, then one normalised row and exactly one message.received event`, async () => {
      const ids = uniqueIds("types");
      const account = await createMetaAccount(database.db, ids);
      const payload = metaFixture(testCase.fixture, ids);
      const original = (payload.entry[0]!.changes[0]!.value.messages as Record<string, unknown>[])[0]!;
      const inboxId = await insertDelivery(database.db, payload);

      await drain(createWorker(database.db));

      expect((await inboxRow(database.db, inboxId)).status).toBe("processed");
      const wamid = String(original.id);
      const row = await messageByWamid(database.db, ids.tenantId, wamid);
      expect(row).toMatchObject({ direction: "inbound", status: "received", type: testCase.rowType, accountId: account.id });
      expect(row?.content).toMatchObject({ wamid, type: testCase.rowType, phoneNumberId: ids.phoneNumberId });
      if (testCase.rowType === "unsupported") expect(row?.raw).toEqual(original);
      else if (testCase.rowType !== "system") expect(row?.raw).toBeNull();

      const events = await outboxEvents(database.db, ids.tenantId);
      const received = eventsNamed(events, "message.received");
      expect(received).toHaveLength(1);
      const { event, subject, headers } = received[0]!;
      expect(subject).toBe(`whatsapp.${ids.tenantId}.message.received`);
      expect(headers).toMatchObject({ "content-type": "application/protobuf", "whatsapp-event-type": "message.received" });
      expect(event).toMatchObject({
        tenantId: ids.tenantId,
        accountId: account.id,
        businessId: "biz-1",
        wabaId: ids.wabaId,
        phoneNumberId: ids.phoneNumberId,
        messageId: row?.id,
        conversationId: row?.conversationId,
        wamid,
        from: `+${String(original.from)}`,
        type: testCase.type,
        content: testCase.content,
      });
      expect(event.eventId).toBe(received[0]!.outboxId);
      expect(event.message).toMatchObject({ messageId: row?.id, wamid, type: testCase.type, provider: Provider.META, waId: String(original.from) });
      expect(event.message?.timestamp?.seconds).toBe(BigInt(String(original.timestamp)));
      // A number-change notice moves the contact to its new number (ADR 0007); any other message leaves it on the sender's.
      const system = original.system as { type?: string; wa_id?: string } | undefined;
      const contactWaId = system?.type === "user_changed_number" && system.wa_id ? system.wa_id : String(original.from);
      expect(event.contact).toMatchObject({ id: row?.contactId, waId: contactWaId, phone: `+${contactWaId}` });
      if (testCase.rowType === "unsupported") expect(JSON.parse(event.message?.rawJson ?? "")).toEqual(original);

      // The first message of a contact also creates the contact and opens a conversation, in that order.
      expect(events.map((e) => e.name)).toEqual(["contact.created", "conversation.opened", "message.received"]);
      expect(await countRows(database.db, ids.tenantId, "messages")).toBe(1);
    });
  }

  it("when a media message is delivered, then the event carries media id, mime type, voice and animated flags", async () => {
    const ids = uniqueIds("media");
    await createMetaAccount(database.db, ids);
    await insertDelivery(database.db, metaFixture("pywa_message__voice", ids));
    await drain(createWorker(database.db));
    const [received] = eventsNamed(await outboxEvents(database.db, ids.tenantId), "message.received");
    expect(received?.event.message?.content).toMatchObject({
      case: "media",
      value: { mediaId: "1234567890987654321", mimeType: "audio/ogg; codecs=opus", voice: true },
    });
  });

  it("when an interactive reply, an order and a referral arrive, then the event carries their whole normalised content", async () => {
    const ids = uniqueIds("content");
    await createMetaAccount(database.db, ids);
    await insertDelivery(database.db, metaFixture("pywa_flow_completion__completion", ids));
    await insertDelivery(database.db, metaFixture("pywa_message__order", ids));
    await insertDelivery(database.db, metaFixture("ref_message__ctwa_referral", ids));
    await drain(createWorker(database.db));

    // Deliveries are processed concurrently: find each by its type, not its position.
    const received = eventsNamed(await outboxEvents(database.db, ids.tenantId), "message.received").map((e) => e.event.message);
    const ofType = (type: MessageType) => received.find((m) => m?.type === type);
    expect(received).toHaveLength(3);
    expect(ofType(MessageType.INTERACTIVE)?.content).toMatchObject({
      case: "interactive",
      value: { reply: { case: "nfmReply", value: { flowToken: "AQAAAAACS5FpgQ_cAAAAAD0QI3s." } } },
    });
    expect(ofType(MessageType.ORDER)?.content).toMatchObject({
      case: "order",
      value: { catalogId: "354160437058781", items: [{ productRetailerId: "HAMBURGER", quantity: 3n }, {}, {}] },
    });
    const referred = ofType(MessageType.TEXT);
    expect(referred?.referral).toMatchObject({ sourceType: "ad", ctwaClid: expect.stringMatching(/^Aff-/), welcomeMessageText: "Hi there! Let us know how we can help." });
    expect(referred?.fromUserId).toBe("US.13491208655302741918");
  });

  it("when the first message of a contact arrives, then contact.created and conversation.opened carry the stored contact and conversation", async () => {
    const ids = uniqueIds("first");
    const account = await createMetaAccount(database.db, ids);
    await insertDelivery(database.db, metaFixture("ref_message__ctwa_referral", ids));
    await drain(createWorker(database.db));

    const events = await outboxEvents(database.db, ids.tenantId);
    const [created] = eventsNamed(events, "contact.created");
    const [opened] = eventsNamed(events, "conversation.opened");
    const [received] = eventsNamed(events, "message.received");
    expect(created?.event.contact).toMatchObject({
      waId: "16505551234",
      phone: "+16505551234",
      profileName: "Sheena Nelson",
      userId: "US.13491208655302741918",
      username: "sheena",
    });
    expect(created?.event).toMatchObject({ accountId: account.id, messageId: received?.event.messageId, conversationId: received?.event.conversationId });
    expect(opened?.event).toMatchObject({ conversationId: received?.event.conversationId, messageId: received?.event.messageId });
    expect(opened?.event.conversation).toMatchObject({
      accountId: account.id,
      status: ConversationStatus.ACTIVE,
      source: ConversationSource.INBOUND,
      messageCount: 1n,
      inboundMessageCount: 1n,
      windowOpen: false, // the fixture's message is from 2025; its 24-hour window has passed
    });
    expect(opened?.event.conversation?.lastInboundTime?.seconds).toBe(1750275992n);
    expect(opened?.event.conversation?.contact?.id).toBe(created?.event.contact?.id);
  });
});

/** Status fixture → the status it reports and the status an outbound message in `sent` ends at. */
const STATUS_CASES: { fixture: string; from: "sent" | "delivered"; status: MessageStatus; column: string }[] = [
  { fixture: "pywa_message_status__delivered", from: "sent", status: MessageStatus.DELIVERED, column: "deliveredTime" },
  { fixture: "pywa_message_status__read", from: "sent", status: MessageStatus.READ, column: "readTime" },
  { fixture: "pywa_message_status__played", from: "delivered", status: MessageStatus.READ, column: "readTime" },
  { fixture: "pywa_message_status__group", from: "sent", status: MessageStatus.READ, column: "readTime" },
  { fixture: "pywa_message_status__failed", from: "sent", status: MessageStatus.FAILED, column: "failedTime" },
  { fixture: "ref_status__failed_131047", from: "sent", status: MessageStatus.FAILED, column: "failedTime" },
];

describe("statuses of outbound messages", () => {
  for (const testCase of STATUS_CASES) {
    it(`when Meta delivers ${testCase.fixture}, then the message moves and exactly one message.status event says so (and one message.failed for a failure)`, async () => {
      const ids = uniqueIds("status");
      const account = await createMetaAccount(database.db, ids);
      const payload = metaFixture(testCase.fixture, ids);
      const status = (payload.entry[0]!.changes[0]!.value.statuses as Record<string, unknown>[])[0]!;
      const wamid = String(status.id);
      const messageId = await insertOutboundMessage(database.db, ids.tenantId, account.id, { wamid, status: testCase.from });
      await insertDelivery(database.db, payload);

      await drain(createWorker(database.db));

      const row = await messageByWamid(database.db, ids.tenantId, wamid);
      expect(row?.status).toBe(MessageStatus[testCase.status].toLowerCase());
      expect((row as Record<string, unknown>)[testCase.column]).toEqual(new Date(Number(status.timestamp) * 1000));
      const events = await outboxEvents(database.db, ids.tenantId);
      // A failure is also the message failing for good: its one message.failed follows (events.proto).
      expect(events.map((e) => e.name)).toEqual(testCase.status === MessageStatus.FAILED ? ["message.status", "message.failed"] : ["message.status"]);
      const { event, subject } = eventsNamed(events, "message.status")[0]!;
      expect(subject).toBe(`whatsapp.${ids.tenantId}.message.status`);
      expect(event).toMatchObject({
        tenantId: ids.tenantId,
        accountId: account.id,
        messageId,
        wamid,
        status: testCase.status,
        previousStatus: testCase.from === "sent" ? MessageStatus.SENT : MessageStatus.DELIVERED,
        from: "+15550783881",
        to: "+972987654321",
        content: "Your order has shipped",
        type: MessageType.TEXT,
        metadata: { order: "A-17" },
        contactId: row?.contactId,
      });
      expect(event.statusTime?.seconds).toBe(BigInt(String(status.timestamp)));
      if (testCase.status === MessageStatus.FAILED) {
        const [error] = status.errors as { code: number; title: string }[];
        expect(event.error).toMatchObject({ code: error!.code, title: error!.title });
        expect(row).toMatchObject({ errorCode: String(error!.code), errorTitle: error!.title });
        expect(row?.errorDetails).not.toBe("");
      } else {
        expect(event.error).toBeUndefined();
      }
    });
  }

  it("when sent arrives with pricing and a provider conversation, then the event and the row carry them", async () => {
    const ids = uniqueIds("pricing");
    const account = await createMetaAccount(database.db, ids);
    const payload = metaFixture("ref_status__sent_pmp", ids);
    const wamid = String((payload.entry[0]!.changes[0]!.value.statuses as { id: string }[])[0]!.id);
    await insertOutboundMessage(database.db, ids.tenantId, account.id, { wamid, status: "sending" });
    await insertDelivery(database.db, payload);
    await drain(createWorker(database.db));

    const [status] = eventsNamed(await outboxEvents(database.db, ids.tenantId), "message.status");
    expect(status?.event).toMatchObject({
      status: MessageStatus.SENT,
      previousStatus: MessageStatus.SENDING,
      pricing: { billable: true, pricingModel: "PMP", category: "marketing", type: "regular" },
      providerConversation: { id: "6ceb9d929c1f6b4cba3d8e6e5c7b6e4a", originType: "marketing" },
    });
    expect(status?.event.providerConversation?.expireTime?.seconds).toBe(1750350173n);
    expect((await messageByWamid(database.db, ids.tenantId, wamid))?.pricing).toEqual({
      billable: true,
      pricingModel: "PMP",
      category: "marketing",
      type: "regular",
    });
  });
});
