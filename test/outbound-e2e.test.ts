/**
 * Issue 4 acceptance 1, end to end through the real service: `startService`
 * with every worker (inbox, relay, sender), the Graph API simulator as
 * WHATSAPP_GRAPH_URL, NATS_URL pointing at a private nats-server, Meta's
 * webhooks POSTed over HTTP signed like Meta signs them, and events read back
 * by a separate NATS consumer that decodes them with the generated types.
 *
 * For every content type SendMessage accepts: the request the simulator
 * receives is the exact Graph API body of the wire-format reference
 * (whatsapp-cloud-api.md §5.2), and Meta's `sent`/`delivered`/`read`
 * statuses for the wamid it answered (sometimes `read` before `delivered`)
 * leave the message READ with exactly one `message.status` event per real
 * state change.
 */
import { randomBytes } from "node:crypto";

import type { MessageInitShape } from "@bufbuild/protobuf";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";

import type { MessageStatusEvent } from "../gen/whatsapp/v1/events_pb.js";
import {
  MediaKind,
  MessageStatus,
  TemplateMessageComponent_ButtonSubType as ButtonSubType,
  TemplateMessageComponent_Type as ComponentType,
} from "../gen/whatsapp/v1/message_pb.js";
import { MessagingService, type SendMessageRequestSchema } from "../gen/whatsapp/v1/messaging_pb.js";
import { withTenant } from "../src/adapters/postgres/index.js";
import { outbox } from "../src/adapters/postgres/schema/control.js";
import { messages } from "../src/adapters/postgres/schema/tenant.js";
import { FAST_SENDER } from "./outbound/support/outbound-harness.js";
import { GraphSimulator, type SimulatedRequest } from "./support/graph-simulator.js";
import { bodyWith, seedApprovedTemplate } from "./support/templates.js";
import { contact, deliver, messagesChange, metaEnvelope, newWamid, statusUpdate, textMessage, type StatusName } from "./support/meta-simulator.js";
import { startNatsServer, type NatsTestServer } from "./support/nats-server.js";
import { clientFor, closeClientSessions, startTestService, type TestService } from "./support/service.js";
import { eventually } from "./kit/eventually.js";

const APP_SECRET = "outbound-e2e-app-secret";
const STREAM = `OUT_E2E_${randomBytes(3).toString("hex")}`;
const DISPLAY_NUMBER = "+15550783881";
const suffix = randomBytes(4).toString("hex");
const TENANT = `out-e2e-${suffix}`;
const PHONE_NUMBER_ID = `1${String(parseInt(suffix, 16)).padStart(10, "0")}`;
const TOKEN = `token-${randomBytes(6).toString("hex")}`;
/** The customer: E.164 as the caller passes it, and the wa_id Meta reports. */
const RECIPIENT = `+1415${(2_000_000 + Math.floor(Math.random() * 7_999_999)).toString()}`;
const RECIPIENT_WA_ID = RECIPIENT.slice(1);
/** The wamid of the customer's inbound message: target of the reaction and of the contextual reply. */
const INBOUND_WAMID = newWamid();

let nats: NatsTestServer;
let simulator: GraphSimulator;
let service: TestService;
let accountId: string;

beforeAll(async () => {
  nats = await startNatsServer();
  simulator = await GraphSimulator.start();
  simulator.setToken(PHONE_NUMBER_ID, TOKEN);
  service = await startTestService({
    env: {
      META_APP_SECRET: APP_SECRET,
      NATS_URL: nats.url,
      NATS_STREAM: STREAM,
      NATS_STREAM_MAX_AGE_SECONDS: "3600",
      WHATSAPP_GRAPH_URL: simulator.url,
      WORKERS: "inbox,relay,sender",
      LOG_LEVEL: "info",
    },
    overrides: { sender: FAST_SENDER },
  });
  const account = await service.service.app.accounts.create({
    id: uuidv7(),
    tenantId: TENANT,
    provider: "meta",
    displayName: "Outbound E2E number",
    phoneNumberId: PHONE_NUMBER_ID,
    wabaId: `2${PHONE_NUMBER_ID}`,
    displayPhoneNumber: DISPLAY_NUMBER,
    businessId: "biz-out-e2e",
    rateLimitPerSecond: 80,
    status: "active",
    credentials: { accessToken: TOKEN },
    metadata: {},
  });
  accountId = account.id;
  // Sends are checked against the approved template before they are queued.
  await seedApprovedTemplate(service.database.url, TENANT, account, {
    name: "order_confirmation",
    language: "en_US",
    components: {
      header: { format: "IMAGE", text: "", examples: { positional: [], named: {} }, exampleMedia: "4::aW1hZ2U=" },
      body: bodyWith(2),
      buttons: [
        { kind: "quick_reply", text: "Stop" },
        { kind: "url", text: "Track", url: "https://example.com/o/{{1}}", example: "https://example.com/o/1" },
      ],
    },
  });
});

afterAll(async () => {
  closeClientSessions();
  await service?.cleanup();
  await simulator?.close();
  await nats?.cleanup();
});

// ------------------------------------------------------------------ helpers

const webhookUrl = () => `${service.service.url}/webhook`;
const db = () => service.service.app.database.db;
const messaging = () => clientFor(MessagingService, service.service.url, TENANT);


async function deliverSigned(payload: unknown): Promise<void> {
  const response = await deliver(webhookUrl(), payload, { appSecret: APP_SECRET });
  expect(response.status).toBe(200);
}

/** The customer writes first (a signed inbound webhook): opens the 24-hour window and gives a wamid to react and reply to. */
async function customerWrites(): Promise<void> {
  await deliverSigned(
    metaEnvelope(`2${PHONE_NUMBER_ID}`, [
      messagesChange({
        phoneNumberId: PHONE_NUMBER_ID,
        displayPhoneNumber: DISPLAY_NUMBER.slice(1),
        contacts: [contact(RECIPIENT_WA_ID, "Ana")],
        messages: [textMessage({ from: RECIPIENT_WA_ID, id: INBOUND_WAMID, body: "Hola, quiero un café" })],
      }),
    ]),
  );
  await eventually("the inbound message to be stored", async () => {
    const rows = await withTenant(db(), TENANT, (tx) => tx.select({ id: messages.id }).from(messages).where(eq(messages.wamid, INBOUND_WAMID)));
    return rows[0];
  }, { timeoutMs: 30_000, retryErrors: true });
}

async function deliverStatus(wamid: string, status: StatusName): Promise<void> {
  await deliverSigned(
    metaEnvelope(`2${PHONE_NUMBER_ID}`, [
      messagesChange({
        phoneNumberId: PHONE_NUMBER_ID,
        displayPhoneNumber: DISPLAY_NUMBER.slice(1),
        statuses: [statusUpdate({ id: wamid, status, recipientId: RECIPIENT_WA_ID })],
      }),
    ]),
  );
}

async function messageStatus(messageId: string): Promise<MessageStatus | undefined> {
  const { message } = await messaging().getMessage({ messageId });
  return message?.status;
}

async function waitForStatus(messageId: string, status: MessageStatus): Promise<void> {
  await eventually(`message ${messageId} to be ${MessageStatus[status]}`, async () => ((await messageStatus(messageId)) === status ? true : undefined), { timeoutMs: 30_000, retryErrors: true });
}

// ------------------------------------------------------------------ cases

type Content = MessageInitShape<typeof SendMessageRequestSchema>["content"];

interface SendCase {
  name: string;
  content: Content;
  replyTo?: string;
  /** The Graph API body of reference §5.2 (without biz_opaque_callback_data, which the sender adds). */
  graph: () => Record<string, unknown>;
  /** Meta's statuses in the order they are delivered. */
  statuses: StatusName[];
}

/** The common body of reference §5.2 around one type object. */
function graphBody(type: string, object: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { messaging_product: "whatsapp", recipient_type: "individual", to: RECIPIENT, ...extra, type, [type]: object };
}

const IN_ORDER: StatusName[] = ["sent", "delivered", "read"];
/** Meta reports `read` before `delivered` when the user has the chat open; the late `delivered` changes nothing. */
const READ_FIRST: StatusName[] = ["sent", "read", "delivered"];

const CASES: SendCase[] = [
  {
    name: "text with preview_url",
    content: { case: "text", value: { body: "Your order https://example.com/o/42 is ready", previewUrl: true } },
    graph: () => graphBody("text", { preview_url: true, body: "Your order https://example.com/o/42 is ready" }),
    statuses: IN_ORDER,
  },
  {
    name: "template with header, body and button parameters",
    content: {
      case: "template",
      value: {
        name: "order_confirmation",
        language: "en_US",
        components: [
          {
            type: ComponentType.HEADER,
            parameters: [{ value: { case: "image", value: { source: { case: "link", value: "https://example.com/banner.jpg" } } } }],
          },
          {
            type: ComponentType.BODY,
            parameters: [
              { value: { case: "text", value: "Jessica" } },
              { value: { case: "currency", value: { fallbackValue: "$100.99", code: "USD", amount1000: 100990n } } },
            ],
          },
          { type: ComponentType.BUTTON, subType: ButtonSubType.QUICK_REPLY, index: 0, parameters: [{ value: { case: "payload", value: "PAYLOAD" } }] },
          { type: ComponentType.BUTTON, subType: ButtonSubType.URL, index: 1, parameters: [{ value: { case: "text", value: "Gon%C3%A7alves" } }] },
        ],
      },
    },
    graph: () =>
      graphBody("template", {
        name: "order_confirmation",
        language: { code: "en_US" },
        components: [
          { type: "header", parameters: [{ type: "image", image: { link: "https://example.com/banner.jpg" } }] },
          {
            type: "body",
            parameters: [
              { type: "text", text: "Jessica" },
              { type: "currency", currency: { fallback_value: "$100.99", code: "USD", amount_1000: 100990 } },
            ],
          },
          { type: "button", sub_type: "quick_reply", index: "0", parameters: [{ type: "payload", payload: "PAYLOAD" }] },
          { type: "button", sub_type: "url", index: "1", parameters: [{ type: "text", text: "Gon%C3%A7alves" }] },
        ],
      }),
    statuses: READ_FIRST,
  },
  {
    name: "image by link",
    content: { case: "media", value: { kind: MediaKind.IMAGE, source: { case: "link", value: "https://example.com/cat.jpg" }, caption: "A cat" } },
    graph: () => graphBody("image", { link: "https://example.com/cat.jpg", caption: "A cat" }),
    statuses: IN_ORDER,
  },
  {
    name: "image by id",
    content: { case: "media", value: { kind: MediaKind.IMAGE, source: { case: "mediaId", value: "1479537139650973" } } },
    graph: () => graphBody("image", { id: "1479537139650973" }),
    statuses: READ_FIRST,
  },
  {
    name: "audio",
    content: { case: "media", value: { kind: MediaKind.AUDIO, source: { case: "mediaId", value: "audio-media-id-1" } } },
    graph: () => graphBody("audio", { id: "audio-media-id-1" }),
    statuses: IN_ORDER,
  },
  {
    name: "video",
    content: { case: "media", value: { kind: MediaKind.VIDEO, source: { case: "link", value: "https://example.com/clip.mp4" }, caption: "Clip" } },
    graph: () => graphBody("video", { link: "https://example.com/clip.mp4", caption: "Clip" }),
    statuses: IN_ORDER,
  },
  {
    name: "document with filename and caption",
    content: {
      case: "media",
      value: { kind: MediaKind.DOCUMENT, source: { case: "mediaId", value: "doc-media-id-1" }, caption: "Invoice for March", filename: "invoice-2025-03.pdf" },
    },
    graph: () => graphBody("document", { id: "doc-media-id-1", caption: "Invoice for March", filename: "invoice-2025-03.pdf" }),
    statuses: READ_FIRST,
  },
  {
    name: "sticker",
    content: { case: "media", value: { kind: MediaKind.STICKER, source: { case: "mediaId", value: "sticker-media-id-1" } } },
    graph: () => graphBody("sticker", { id: "sticker-media-id-1" }),
    statuses: IN_ORDER,
  },
  {
    name: "location",
    content: { case: "location", value: { latitude: 37.44216251868683, longitude: -122.16153582049394, name: "Philz Coffee", address: "101 Forest Ave, Palo Alto, CA 94301" } },
    graph: () =>
      graphBody("location", { latitude: "37.44216251868683", longitude: "-122.16153582049394", name: "Philz Coffee", address: "101 Forest Ave, Palo Alto, CA 94301" }),
    statuses: IN_ORDER,
  },
  {
    name: "contacts",
    content: {
      case: "contacts",
      value: {
        contacts: [
          {
            name: { formattedName: "Howard Jordan", firstName: "Howard", lastName: "Jordan" },
            phones: [{ phone: "+16505559999", type: "HOME", waId: "16505559999" }],
            emails: [{ email: "howard@example.com", type: "WORK" }],
            addresses: [{ street: "1 Hacker Way", city: "Menlo Park", state: "CA", zip: "94025", country: "United States", countryCode: "US", type: "WORK" }],
            org: { company: "Meta", department: "Sales", title: "Manager" },
            urls: [{ url: "https://example.com", type: "WORK" }],
            birthday: "1999-01-23",
          },
        ],
      },
    },
    graph: () =>
      graphBody("contacts", [
        {
          name: { formatted_name: "Howard Jordan", first_name: "Howard", last_name: "Jordan" },
          birthday: "1999-01-23",
          phones: [{ phone: "+16505559999", type: "HOME", wa_id: "16505559999" }],
          emails: [{ email: "howard@example.com", type: "WORK" }],
          addresses: [{ street: "1 Hacker Way", city: "Menlo Park", state: "CA", zip: "94025", country: "United States", country_code: "US", type: "WORK" }],
          org: { company: "Meta", department: "Sales", title: "Manager" },
          urls: [{ url: "https://example.com", type: "WORK" }],
        },
      ]),
    statuses: READ_FIRST,
  },
  {
    name: "interactive reply buttons",
    content: {
      case: "interactive",
      value: {
        header: { content: { case: "text", value: "Your appointment" } },
        body: "Can you make it on Tuesday at 10:00?",
        footer: "Reply with a button",
        action: { case: "buttons", value: { buttons: [{ id: "yes", title: "Yes" }, { id: "no", title: "No" }] } },
      },
    },
    graph: () =>
      graphBody("interactive", {
        type: "button",
        header: { type: "text", text: "Your appointment" },
        body: { text: "Can you make it on Tuesday at 10:00?" },
        footer: { text: "Reply with a button" },
        action: {
          buttons: [
            { type: "reply", reply: { id: "yes", title: "Yes" } },
            { type: "reply", reply: { id: "no", title: "No" } },
          ],
        },
      }),
    statuses: IN_ORDER,
  },
  {
    name: "interactive list",
    content: {
      case: "interactive",
      value: {
        header: { content: { case: "text", value: "Menu" } },
        body: "What would you like?",
        footer: "Pick one",
        action: {
          case: "list",
          value: {
            button: "See options",
            sections: [
              { title: "Drinks", rows: [{ id: "coffee", title: "Coffee", description: "Hot and black" }, { id: "tea", title: "Tea" }] },
              { title: "Food", rows: [{ id: "cake", title: "Cake" }] },
            ],
          },
        },
      },
    },
    graph: () =>
      graphBody("interactive", {
        type: "list",
        header: { type: "text", text: "Menu" },
        body: { text: "What would you like?" },
        footer: { text: "Pick one" },
        action: {
          button: "See options",
          sections: [
            {
              title: "Drinks",
              rows: [
                { id: "coffee", title: "Coffee", description: "Hot and black" },
                { id: "tea", title: "Tea" },
              ],
            },
            { title: "Food", rows: [{ id: "cake", title: "Cake" }] },
          ],
        },
      }),
    statuses: READ_FIRST,
  },
  {
    name: "interactive cta_url",
    content: {
      case: "interactive",
      value: { body: "Track your order online.", action: { case: "ctaUrl", value: { displayText: "Track order", url: "https://example.com/track?o=42" } } },
    },
    graph: () =>
      graphBody("interactive", {
        type: "cta_url",
        body: { text: "Track your order online." },
        action: { name: "cta_url", parameters: { display_text: "Track order", url: "https://example.com/track?o=42" } },
      }),
    statuses: IN_ORDER,
  },
  {
    name: "reaction",
    content: { case: "reaction", value: { messageId: INBOUND_WAMID, emoji: "😀" } },
    graph: () => graphBody("reaction", { message_id: INBOUND_WAMID, emoji: "😀" }),
    statuses: IN_ORDER,
  },
  {
    name: "reply with context",
    content: { case: "text", value: { body: "Yes, it is ready" } },
    replyTo: INBOUND_WAMID,
    graph: () => graphBody("text", { body: "Yes, it is ready" }, { context: { message_id: INBOUND_WAMID } }),
    statuses: READ_FIRST,
  },
];

/**
 * Where the service's body differs from the reference (reported, not changed
 * here): what the service really sends instead, so the test pins it.
 *
 * - Location: the reference's example sends latitude/longitude as strings
 *   ("whether numbers are also accepted is UNCONFIRMED", §5.2); the service
 *   sends JSON numbers.
 */
function asTheServiceSendsIt(reference: Record<string, unknown>): Record<string, unknown> {
  const body = { ...reference };
  if (reference.type !== "location") return body;
  const location = reference.location as Record<string, unknown>;
  return { ...body, location: { ...location, latitude: Number(location.latitude), longitude: Number(location.longitude) } };
}

/** The `message.status` events the stream holds for a message sent and then reported with `statuses`. */
function expectedTransitions(statuses: StatusName[]): Array<[MessageStatus, MessageStatus]> {
  const rank = { sent: MessageStatus.SENT, delivered: MessageStatus.DELIVERED, read: MessageStatus.READ } as const;
  // The sender's own move to SENT comes first (its previous status is the sender's business); Meta's `sent` repeats it.
  const transitions: Array<[MessageStatus, MessageStatus]> = [];
  let current: MessageStatus = MessageStatus.SENT;
  for (const status of statuses) {
    if (status === "failed" || status === "played") continue;
    const next = rank[status];
    if (next > current) {
      transitions.push([current, next]);
      current = next;
    }
  }
  return transitions;
}

// ------------------------------------------------------------------ test

describe("outbound messages end to end", () => {
  it("when every content type is sent and Meta reports its statuses, then the simulator gets the reference Graph body and the message ends READ with one status event per change", async () => {
    await customerWrites();

    const sent: Array<{ case: SendCase; messageId: string; request: SimulatedRequest }> = [];
    for (const sendCase of CASES) {
      const { message } = await messaging().sendMessage({
        accountId,
        to: RECIPIENT,
        content: sendCase.content,
        replyToMessageId: sendCase.replyTo ?? "",
        metadata: { case: sendCase.name },
      });
      const messageId = message!.id;
      const request = await eventually(`the simulator to accept "${sendCase.name}"`, async () => simulator.acceptedFor(messageId)[0], { timeoutMs: 30_000, retryErrors: true });
      expect(request.body, sendCase.name).toStrictEqual({ ...asTheServiceSendsIt(sendCase.graph()), biz_opaque_callback_data: messageId });
      sent.push({ case: sendCase, messageId, request });
    }
    expect(simulator.requests.filter((r) => r.outcome === "accepted")).toHaveLength(CASES.length);

    for (const { case: sendCase, messageId, request } of sent) {
      // The sender stores the wamid after the simulator answered; statuses for an unknown wamid would only wait.
      await waitForStatus(messageId, MessageStatus.SENT);
      for (const status of sendCase.statuses) await deliverStatus(request.wamid!, status);
    }
    for (const { messageId } of sent) await waitForStatus(messageId, MessageStatus.READ);

    await eventually("every event to be on the stream", async () => {
      const rows = await db().select({ publishedAt: outbox.publishedAt }).from(outbox).where(eq(outbox.tenantId, TENANT));
      return rows.length > 0 && rows.every((r) => r.publishedAt !== null) ? true : undefined;
    }, { timeoutMs: 30_000, retryErrors: true });
    const events = await nats.collectEvents(STREAM, `whatsapp.${TENANT}.message.status`);
    const statusEvents = events.map((e) => {
      expect(e.event?.type).toBe("message.status");
      return e.event!.message as MessageStatusEvent;
    });

    for (const { case: sendCase, messageId, request } of sent) {
      const mine = statusEvents.filter((e) => e.messageId === messageId);
      const [first, ...rest] = mine;
      expect(first?.status, `${sendCase.name}: the sender's move to SENT`).toBe(MessageStatus.SENT);
      expect(
        rest.map((e) => [e.previousStatus, e.status]),
        `${sendCase.name}: one event per state change`,
      ).toStrictEqual(expectedTransitions(sendCase.statuses));
      for (const event of mine) {
        expect(event.wamid).toBe(request.wamid);
        expect(event.accountId).toBe(accountId);
        expect(event.tenantId).toBe(TENANT);
        expect(event.metadata).toStrictEqual({ case: sendCase.name });
      }
    }
    expect(statusEvents).toHaveLength(sent.reduce((n, s) => n + 1 + expectedTransitions(s.case.statuses).length, 0));
  }, 120_000);
});
