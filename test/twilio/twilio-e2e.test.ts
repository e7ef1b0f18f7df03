/**
 * Issue 18 acceptance, end to end through the real service (inbox, relay
 * and sender workers; a private nats-server; the Twilio simulator as
 * TWILIO_BASE_URL). The service runs behind a "proxy": PUBLIC_URL is
 * https://wa.example.com/ingress, Twilio signs that URL, and requests reach
 * the service on its own address — as behind KrakenD or an ingress.
 *
 * 1. Every Twilio inbound form and status callback of the fixtures, signed
 *    as Twilio signs it, is accepted once (200, empty TwiML) and ends as the
 *    right row and exactly one event; a bad or missing signature → 403 and
 *    nothing stored; the same request again stores nothing new.
 * 2. Sends of text, media and a Content template reach the simulator with
 *    the exact form body; status callbacks move the message to READ; 63016,
 *    21211, 20429 and 5xx each end as the policy says.
 * 3. A tenant with a Meta and a Twilio account sees both in the same
 *    conversations, events and APIs, told apart only by the account.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { eq, sql } from "drizzle-orm";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";

import { AccountService, Provider as PbProvider } from "../../gen/whatsapp/v1/account_pb.js";
import { ConversationService } from "../../gen/whatsapp/v1/conversation_pb.js";
import { MessageStatus, MessageType } from "../../gen/whatsapp/v1/message_pb.js";
import { MessagingService } from "../../gen/whatsapp/v1/messaging_pb.js";
import { withTenant } from "../../src/adapters/postgres/index.js";
import { webhookInbox } from "../../src/adapters/postgres/schema/control.js";
import { messages } from "../../src/adapters/postgres/schema/tenant.js";
import { eventually as poll } from "../kit/eventually.js";
import { FAST_SENDER } from "../outbound/support/outbound-harness.js";
import { contact, deliver, messagesChange, metaEnvelope, newWamid, textMessage } from "../support/meta-simulator.js";
import { startNatsServer, type CollectedEvent, type NatsTestServer } from "../support/nats-server.js";
import { clientFor, closeClientSessions, startTestService, type TestService } from "../support/service.js";
import { postSignedForm, signTwilio, TwilioSimulator } from "../support/twilio-simulator.js";

/** Each case waits on three workers and a relay: generous, so a loaded machine makes it slow, not red. */
const E2E_TIMEOUT_MS = 120_000;
const FIXTURES = fileURLToPath(new URL("../fixtures/twilio/", import.meta.url));
const PUBLIC_URL = "https://wa.example.com/ingress";
const STREAM = `TWILIO_E2E_${randomBytes(3).toString("hex")}`;
const TENANT = `twilio-e2e-${randomBytes(4).toString("hex")}`;
/** The fixtures' Twilio account and sender (the sandbox number). */
const ACCOUNT_SID = "AC1f0e2d3c4b5a69788796a5b4c3d2e1f0";
const AUTH_TOKEN = `twilio-token-${randomBytes(6).toString("hex")}`;
const SENDER = "+14155238886";
/** The fixtures' customer. */
const CUSTOMER = "+6285176810035";
const CONTENT_SID = "HXb5b62575e6e4ff6129ad7c8efe1f983e";
const META_APP_SECRET = "twilio-e2e-meta-secret";
const META_PHONE_NUMBER_ID = `1${String(parseInt(randomBytes(4).toString("hex"), 16)).padStart(10, "0")}`;

let nats: NatsTestServer;
let simulator: TwilioSimulator;
let service: TestService;
let twilioAccountId: string;

beforeAll(async () => {
  nats = await startNatsServer();
  simulator = await TwilioSimulator.start();
  simulator.addAccount(ACCOUNT_SID, AUTH_TOKEN);
  service = await startTestService({
    env: {
      PUBLIC_URL,
      TWILIO_BASE_URL: simulator.url,
      META_APP_SECRET,
      NATS_URL: nats.url,
      NATS_STREAM: STREAM,
      NATS_STREAM_MAX_AGE_SECONDS: "3600",
      WORKERS: "inbox,relay,sender",
      LOG_LEVEL: "info",
    },
    // A short Twilio timeout, so a hung answer becomes an unknown outcome quickly.
    overrides: { sender: FAST_SENDER, providers: { twilioTimeoutMs: 1_000 } },
  });
  simulator.proxy = { public: PUBLIC_URL, actual: service.service.url };
  // Through the API, as an operator would: credentials are write-only and encrypted.
  const { account } = await accounts().createAccount({
    account: {
      provider: PbProvider.TWILIO,
      displayName: "Twilio sandbox",
      phoneNumberId: SENDER,
      credentials: { twilioAccountSid: ACCOUNT_SID, twilioAuthToken: AUTH_TOKEN },
      metadata: { "twilio_content:order_update:es": CONTENT_SID },
    },
  });
  twilioAccountId = account!.id;
  expect(account).toMatchObject({ rateLimitPerSecond: 10, displayPhoneNumber: SENDER, credentialsSet: ["twilio_account_sid", "twilio_auth_token"] });
});

afterAll(async () => {
  closeClientSessions();
  await service?.cleanup();
  await simulator?.close();
  await nats?.cleanup();
});

// ------------------------------------------------------------------ helpers

const db = () => service.service.app.database.db;
const accounts = () => clientFor(AccountService, service.service.url, TENANT);
const messaging = () => clientFor(MessagingService, service.service.url, TENANT);
const conversations = () => clientFor(ConversationService, service.service.url, TENANT);

/** The kit's poll, generous for a loaded machine; a probe that throws (a read racing the commit) is polled again. */
function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  return poll(what, probe, { timeoutMs: 60_000, retryErrors: true });
}

function fixtureForm(name: string): [string, string][] {
  return [...new URLSearchParams(readFileSync(`${FIXTURES}${name}.form.txt`, "utf8"))];
}

/** Posts a form to the service as Twilio would through the proxy: signed for the public URL. */
function postAsTwilio(path: string, form: [string, string][], options: { signature?: string | null } = {}) {
  return postSignedForm(`${service.service.url}${path}`, form, AUTH_TOKEN, { ...options, signedUrl: `${PUBLIC_URL}${path}` });
}

async function inboxCount(): Promise<number> {
  const [row] = await db().select({ n: sql<number>`count(*)::int` }).from(webhookInbox).where(eq(webhookInbox.provider, "twilio"));
  return row?.n ?? 0;
}

async function events(subject: string): Promise<CollectedEvent[]> {
  return nats.collectEvents(STREAM, `whatsapp.${TENANT}.${subject}`);
}

async function waitForStatus(messageId: string, status: MessageStatus): Promise<void> {
  await eventually(`message ${messageId} to be ${MessageStatus[status]}`, async () => {
    const { message } = await messaging().getMessage({ messageId });
    return message?.status === status ? true : undefined;
  });
}

function withField(form: [string, string][], name: string, value: string): [string, string][] {
  return form.map(([n, v]) => [n, n === name ? value : v]);
}

const INBOUND = readdirSync(FIXTURES)
  .filter((f) => f.startsWith("ref_inbound_") && f.endsWith(".form.txt"))
  .map((f) => f.replace(/\.form\.txt$/, ""))
  .sort();

/** What each inbound fixture must become (proto MessageType of the stored message and its event). */
const EXPECTED_TYPE: Record<string, MessageType> = {
  ref_inbound_bsuid: MessageType.TEXT,
  ref_inbound_button_reply: MessageType.INTERACTIVE,
  ref_inbound_document: MessageType.DOCUMENT,
  ref_inbound_forwarded: MessageType.TEXT,
  ref_inbound_image: MessageType.IMAGE,
  ref_inbound_location: MessageType.LOCATION,
  ref_inbound_quick_reply: MessageType.BUTTON,
  ref_inbound_referral: MessageType.TEXT,
  ref_inbound_reply: MessageType.TEXT,
  ref_inbound_text: MessageType.TEXT,
  ref_inbound_voice: MessageType.AUDIO,
};

// ------------------------------------------------------------------ 1. inbound and signatures

describe("Twilio webhooks", { timeout: E2E_TIMEOUT_MS }, () => {
  it("when a request is unsigned, wrongly signed, signed for another URL, or names no account, then it is 403 and nothing is stored", async () => {
    const form = fixtureForm("ref_inbound_text");
    const before = await inboxCount();
    expect((await postAsTwilio("/webhook/twilio", form, { signature: null })).status).toBe(403);
    expect((await postAsTwilio("/webhook/twilio", form, { signature: signTwilio("another-token", `${PUBLIC_URL}/webhook/twilio`, form) })).status).toBe(403);
    expect((await postAsTwilio("/webhook/twilio", form, { signature: signTwilio(AUTH_TOKEN, `${PUBLIC_URL}/webhook/twilio/other`, form) })).status).toBe(403);
    // A parameter added after signing.
    const signature = signTwilio(AUTH_TOKEN, `${PUBLIC_URL}/webhook/twilio`, form);
    expect((await postAsTwilio("/webhook/twilio", [...form, ["Body", "injected"]], { signature })).status).toBe(403);
    // Another account SID for the same number.
    expect((await postAsTwilio("/webhook/twilio", withField(form, "AccountSid", "AC00000000000000000000000000000000"))).status).toBe(403);
    expect((await postAsTwilio("/webhook/twilio", withField(form, "To", "whatsapp:+15550001111"))).status).toBe(403);
    expect((await postAsTwilio(`/webhook/twilio/${uuidv7()}`, form)).status).toBe(404);
    expect(await inboxCount()).toBe(before);
  });

  it("when every inbound fixture is posted signed (one of them twice), then each is one row and one message.received event", async () => {
    for (const name of INBOUND) {
      const answer = await postAsTwilio("/webhook/twilio", fixtureForm(name));
      expect(answer, name).toEqual({ status: 200, body: '<?xml version="1.0" encoding="UTF-8"?><Response/>', contentType: "text/xml; charset=utf-8" });
    }
    // Twilio retries: the same request again is accepted and stores nothing new.
    expect((await postAsTwilio("/webhook/twilio", fixtureForm("ref_inbound_text"))).status).toBe(200);
    const sids = INBOUND.map((name) => new URLSearchParams(readFileSync(`${FIXTURES}${name}.form.txt`, "utf8")).get("MessageSid")!);

    const received = await eventually("every inbound message to be published", async () => {
      const found = await events("message.received");
      return found.length >= INBOUND.length ? found : undefined;
    });
    const rows = await withTenant(db(), TENANT, (tx) =>
      tx.select({ wamid: messages.wamid, type: messages.type, status: messages.status, direction: messages.direction, accountId: messages.accountId }).from(messages),
    );
    const inbound = rows.filter((r) => r.direction === "inbound");
    expect(inbound.map((r) => r.wamid).sort()).toEqual([...sids].sort());
    expect(inbound.every((r) => r.status === "received" && r.accountId === twilioAccountId)).toBe(true);
    expect(received.map((e) => (e.event?.type === "message.received" ? e.event.message.wamid : "")).sort()).toEqual([...sids].sort());

    for (const [index, name] of INBOUND.entries()) {
      const event = received.find((e) => e.event?.type === "message.received" && e.event.message.wamid === sids[index]);
      if (event?.event?.type !== "message.received") throw new Error(`${name}: no event`);
      const { message } = event.event;
      expect(message.accountId, name).toBe(twilioAccountId);
      expect(message.type, name).toBe(EXPECTED_TYPE[name]);
      expect(message.message?.provider, name).toBe(PbProvider.TWILIO);
      expect(message.message?.from, name).toBe(CUSTOMER);
      expect(message.message?.to, name).toBe(SENDER);
    }
    const byName = (name: string) => {
      const e = received.find((x) => x.event?.type === "message.received" && x.event.message.wamid === sids[INBOUND.indexOf(name)]);
      return e?.event?.type === "message.received" ? e.event.message.message : undefined;
    };
    expect(byName("ref_inbound_text")?.text).toBe("Hola, quiero información sobre el envío 🚚");
    expect(byName("ref_inbound_image")?.content).toMatchObject({ case: "media", value: { mimeType: "image/jpeg", mediaId: "ME9e8d7c6b5a49382716a5b4c3d2e1f0a9" } });
    expect(byName("ref_inbound_location")?.content).toMatchObject({ case: "location", value: { latitude: -6.2087634, longitude: 106.845599 } });
    expect(byName("ref_inbound_reply")?.context).toMatchObject({ repliedToWamid: "SMaf9e8d7c6b5a49382716a5b4c3d2e1f0" });
    expect(byName("ref_inbound_bsuid")?.fromUserId).toBe("ID.4566546130240823");
    // Every inbound row came from exactly one stored request (+1 for the repeat).
    expect(await inboxCount()).toBe(INBOUND.length + 1);
  });
});

// ------------------------------------------------------------------ 2. sends and statuses

describe("sending through Twilio", { timeout: E2E_TIMEOUT_MS }, () => {
  async function send(content: Parameters<ReturnType<typeof messaging>["sendMessage"]>[0]["content"], to = CUSTOMER): Promise<string> {
    const { message } = await messaging().sendMessage({ accountId: twilioAccountId, to, content });
    return message!.id;
  }

  async function providerId(messageId: string): Promise<string> {
    return eventually(`message ${messageId} to have a SID`, async () => {
      const { message } = await messaging().getMessage({ messageId });
      return message?.wamid ? message.wamid : undefined;
    });
  }

  const callbackUrl = (messageId: string) => `${PUBLIC_URL}/webhook/twilio/${twilioAccountId}?message_id=${messageId}`;

  it("when a text, an image and a Content template are sent, then the simulator receives Twilio's exact form bodies", async () => {
    const text = await send({ case: "text", value: { body: "Tu pedido salió" } });
    const image = await send({ case: "media", value: { kind: 1, source: { case: "link", value: "https://cdn.example.com/p/42.jpg" }, caption: "Tu paquete" } });
    const template = await send({
      case: "template",
      value: { name: "order_update", language: "es", components: [{ type: 2, parameters: [{ value: { case: "text", value: "Ana" } }, { value: { case: "text", value: "42" } }] }] },
    });
    const sidOf = { text: await providerId(text), image: await providerId(image), template: await providerId(template) };
    const formOf = (sid: string) => simulator.requests.find((r) => r.sid === sid)?.form;
    expect(formOf(sidOf.text)).toEqual([
      ["To", `whatsapp:${CUSTOMER}`],
      ["From", `whatsapp:${SENDER}`],
      ["Body", "Tu pedido salió"],
      ["StatusCallback", callbackUrl(text)],
    ]);
    expect(formOf(sidOf.image)).toEqual([
      ["To", `whatsapp:${CUSTOMER}`],
      ["From", `whatsapp:${SENDER}`],
      ["Body", "Tu paquete"],
      ["MediaUrl", "https://cdn.example.com/p/42.jpg"],
      ["StatusCallback", callbackUrl(image)],
    ]);
    expect(formOf(sidOf.template)).toEqual([
      ["To", `whatsapp:${CUSTOMER}`],
      ["From", `whatsapp:${SENDER}`],
      ["ContentSid", CONTENT_SID],
      ["ContentVariables", '{"1":"Ana","2":"42"}'],
      ["StatusCallback", callbackUrl(template)],
    ]);
    for (const r of simulator.requests.filter((x) => Object.values(sidOf).includes(x.sid ?? ""))) {
      expect(r.authorization).toBe(`Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString("base64")}`);
    }
  });

  it("when a template has no Content SID mapped for the account, then SendMessage refuses it before anything is queued", async () => {
    const before = simulator.requests.length;
    const refused = await messaging()
      .sendMessage({ accountId: twilioAccountId, to: CUSTOMER, content: { case: "template", value: { name: "not_mapped", language: "es" } } })
      .then(() => undefined, (error: unknown) => error);
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as ConnectError).code).toBe(Code.FailedPrecondition);
    expect((refused as ConnectError).rawMessage).toContain('"twilio_content:not_mapped:es"');
    expect(simulator.requests.length).toBe(before);
  });

  it("when Twilio posts queued, sent, delivered and read (the fixtures' callbacks, read twice), then the message is READ with one event per change", async () => {
    const messageId = await send({ case: "text", value: { body: "¿Llegó?" } });
    const sid = await providerId(messageId);
    await waitForStatus(messageId, MessageStatus.SENT);
    for (const name of ["ref_status_queued", "ref_status_sent", "ref_status_delivered", "ref_status_read", "ref_status_read"]) {
      const form = withField(withField(fixtureForm(name), "MessageSid", sid), "SmsSid", sid);
      const answer = await postAsTwilio(`/webhook/twilio/${twilioAccountId}?message_id=${messageId}`, form);
      expect(answer.status, name).toBe(200);
    }
    await waitForStatus(messageId, MessageStatus.READ);
    const statusEvents = await eventually("the status events", async () => {
      const found = (await events("message.status")).filter((e) => e.event?.type === "message.status" && e.event.message.messageId === messageId);
      return found.some((e) => e.event?.type === "message.status" && e.event.message.status === MessageStatus.READ) ? found : undefined;
    });
    const statuses = statusEvents.map((e) => (e.event?.type === "message.status" ? e.event.message.status : undefined));
    // SENT came from the send itself; the callbacks add DELIVERED and READ, the duplicates nothing.
    expect(statuses).toEqual([MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ]);
  });

  it("when Twilio posts the failed (63016) and undelivered (63024) fixtures (twice), then each message FAILED with Twilio's code and one status event", async () => {
    for (const [name, code, to] of [
      ["ref_status_failed_63016", 63016, "+593990006301"],
      ["ref_status_undelivered_63024", 63024, "+593990006302"],
    ] as const) {
      await openWindow(to);
      const messageId = await send({ case: "text", value: { body: name } }, to);
      const sid = await providerId(messageId);
      await waitForStatus(messageId, MessageStatus.SENT);
      const form = withField(withField(withField(fixtureForm(name), "MessageSid", sid), "SmsSid", sid), "To", `whatsapp:${to}`);
      expect((await postAsTwilio(`/webhook/twilio/${twilioAccountId}?message_id=${messageId}`, form)).status, name).toBe(200);
      // Twilio may repeat a callback: it changes nothing.
      expect((await postAsTwilio(`/webhook/twilio/${twilioAccountId}?message_id=${messageId}`, form)).status, name).toBe(200);
      await waitForStatus(messageId, MessageStatus.FAILED);
      const { message } = await messaging().getMessage({ messageId });
      expect(message?.error, name).toMatchObject({ code, retryable: false });
      // A failure reported by a status (Meta's or Twilio's) is one message.status FAILED, as the inbound pipeline does for both.
      const statuses = await eventually(`${name}: the FAILED status event`, async () => {
        const found = (await events("message.status")).filter((e) => e.event?.type === "message.status" && e.event.message.messageId === messageId);
        return found.some((e) => e.event?.type === "message.status" && e.event.message.status === MessageStatus.FAILED) ? found : undefined;
      });
      expect(statuses.map((e) => (e.event?.type === "message.status" ? e.event.message.status : undefined)), name).toEqual([MessageStatus.SENT, MessageStatus.FAILED]);
    }
  });

  it("when the simulator posts its own status callbacks, then the message goes to READ", async () => {
    simulator.autoStatuses = ["sent", "delivered", "read"];
    try {
      const messageId = await send({ case: "text", value: { body: "callbacks" } });
      await waitForStatus(messageId, MessageStatus.READ);
      await simulator.settled();
      expect(simulator.callbacks.filter((c) => c.url === callbackUrl(messageId)).map((c) => c.status)).toEqual([200, 200, 200]);
    } finally {
      simulator.autoStatuses = [];
    }
  });

  it("when Twilio reports 63016 (outside the window), then the message FAILED for good with Twilio's window error", async () => {
    const to = "+593990001601";
    simulator.failRecipient(to, 63016);
    // Our window is open (the customer wrote), but Twilio's verdict is final.
    await openWindow(to);
    const messageId = await send({ case: "text", value: { body: "fuera de ventana" } }, to);
    await waitForStatus(messageId, MessageStatus.FAILED);
    const { message } = await messaging().getMessage({ messageId });
    expect(message?.error).toMatchObject({ code: 63016, title: "Outside messaging window. For WhatsApp, use a Message Template instead" });
    expect(simulator.requestsTo(to)).toHaveLength(1);
  });

  it("when Twilio refuses the number (21211), then the message FAILED at once, not retried", async () => {
    const to = "+593990002121";
    simulator.failRecipient(to, 21211);
    await openWindow(to);
    const messageId = await send({ case: "text", value: { body: "x" } }, to);
    await waitForStatus(messageId, MessageStatus.FAILED);
    const { message } = await messaging().getMessage({ messageId });
    expect(message?.error).toMatchObject({ code: 21211, retryable: false });
    expect(simulator.requestsTo(to)).toHaveLength(1);
  });

  it("when Twilio took a send but its answer never came, then the message is not sent again and its status callback gives it its SID", async () => {
    const to = "+593990000404";
    await openWindow(to);
    simulator.autoStatuses = ["sent"];
    simulator.failNext(1, { kind: "hang", accepted: true }, ACCOUNT_SID);
    try {
      const messageId = await send({ case: "text", value: { body: "sin respuesta" } }, to);
      await waitForStatus(messageId, MessageStatus.SENT);
      const { message } = await messaging().getMessage({ messageId });
      const [only] = simulator.requestsTo(to);
      expect(simulator.requestsTo(to)).toHaveLength(1);
      expect(only).toMatchObject({ outcome: "accepted", answered: false });
      expect(message?.wamid).toBe(only?.sid);
    } finally {
      simulator.autoStatuses = [];
    }
  });

  it("when Twilio throttles (20429) and then fails with a 5xx, then the send is retried and goes out", async () => {
    const to = "+593990002042";
    await openWindow(to);
    simulator.failNext(1, { kind: "error", httpStatus: 429, code: 20429, message: "Too Many Requests" }, ACCOUNT_SID);
    simulator.failNext(1, { kind: "error", httpStatus: 503, code: 20503, message: "Service Unavailable" }, ACCOUNT_SID);
    const messageId = await send({ case: "text", value: { body: "reintento" } }, to);
    await waitForStatus(messageId, MessageStatus.SENT);
    const tries = simulator.requestsTo(to);
    expect(tries.map((r) => r.httpStatus)).toEqual([429, 503, 201]);
  });
});

/** The customer `to` writes through Twilio first, which opens the 24-hour window for free-form sends. */
async function openWindow(to: string): Promise<void> {
  const sid = `SM${randomBytes(16).toString("hex")}`;
  const form = withField(withField(withField(withField(fixtureForm("ref_inbound_text"), "MessageSid", sid), "SmsSid", sid), "From", `whatsapp:${to}`), "WaId", to.slice(1));
  expect((await postAsTwilio("/webhook/twilio", form)).status).toBe(200);
  await eventually("the window-opening message to be stored", async () => {
    const rows = await withTenant(db(), TENANT, (tx) => tx.select({ id: messages.id }).from(messages).where(eq(messages.wamid, sid)));
    return rows[0];
  });
}

// ------------------------------------------------------------------ 3. one tenant, two providers

describe("a tenant with a Meta and a Twilio account", { timeout: E2E_TIMEOUT_MS }, () => {
  it("when the same customer writes to both, then one contact has a conversation per account and every API and event tells them apart by the account", async () => {
    const metaAccount = await service.service.app.accounts.create({
      id: uuidv7(),
      tenantId: TENANT,
      provider: "meta",
      displayName: "Meta number",
      phoneNumberId: META_PHONE_NUMBER_ID,
      wabaId: `2${META_PHONE_NUMBER_ID}`,
      displayPhoneNumber: "+15550783881",
      businessId: "biz",
      rateLimitPerSecond: 80,
      status: "active",
      credentials: { accessToken: "unused" },
      metadata: {},
    });
    const metaWamid = newWamid();
    const answer = await deliver(
      `${service.service.url}/webhook`,
      metaEnvelope(`2${META_PHONE_NUMBER_ID}`, [
        messagesChange({
          phoneNumberId: META_PHONE_NUMBER_ID,
          displayPhoneNumber: "15550783881",
          contacts: [contact(CUSTOMER.slice(1), "Rina Wijaya")],
          messages: [textMessage({ from: CUSTOMER.slice(1), id: metaWamid, body: "Hola por Meta" })],
        }),
      ]),
      { appSecret: META_APP_SECRET },
    );
    expect(answer.status).toBe(200);
    const twilioSid = `SM${randomBytes(16).toString("hex")}`;
    expect((await postAsTwilio("/webhook/twilio", withField(withField(fixtureForm("ref_inbound_text"), "MessageSid", twilioSid), "SmsSid", twilioSid))).status).toBe(200);

    const listed = await eventually("both conversations", async () => {
      const { conversations: found } = await conversations().listConversations({ contactPhone: CUSTOMER });
      return found.length >= 2 ? found : undefined;
    });
    expect(new Set(listed.map((c) => c.accountId))).toEqual(new Set([metaAccount.id, twilioAccountId]));
    expect(new Set(listed.map((c) => c.contact?.id)).size).toBe(1);

    const received = await eventually("both events", async () => {
      const found = (await events("message.received")).filter(
        (e) => e.event?.type === "message.received" && [metaWamid, twilioSid].includes(e.event.message.wamid),
      );
      return found.length === 2 ? found : undefined;
    });
    const byWamid = new Map(received.map((e) => [e.event?.type === "message.received" ? e.event.message.wamid : "", e.event?.type === "message.received" ? e.event.message : undefined]));
    expect(byWamid.get(metaWamid)).toMatchObject({ accountId: metaAccount.id, from: CUSTOMER, message: { provider: PbProvider.META } });
    expect(byWamid.get(twilioSid)).toMatchObject({ accountId: twilioAccountId, from: CUSTOMER, message: { provider: PbProvider.TWILIO } });
    expect(byWamid.get(metaWamid)?.contact?.id).toBe(byWamid.get(twilioSid)?.contact?.id);

    const { accounts: listedAccounts } = await accounts().listAccounts({});
    expect(listedAccounts.map((a) => a.provider).sort()).toEqual([PbProvider.META, PbProvider.TWILIO]);
    expect(JSON.stringify(listedAccounts, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value))).not.toContain(AUTH_TOKEN);
  });
});
