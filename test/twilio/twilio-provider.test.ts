import http from "node:http";
import type { AddressInfo } from "node:net";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { TwilioClient } from "../../src/adapters/providers/twilio/twilio-client.js";
import { TwilioProvider } from "../../src/adapters/providers/twilio/twilio-provider.js";
import { checkTwilioSignature } from "../../src/adapters/providers/twilio/twilio-signature.js";
import { parseTwilioWebhookBody } from "../../src/adapters/providers/twilio/webhook-form.js";
import type { MessagingChange } from "../../src/domain/inbound.js";
import { decideAfterError, DEFAULT_RETRY_POLICY } from "../../src/domain/send-policy.js";
import type { OutboundSend, ProviderAccount, SendOutcome } from "../../src/ports/whatsapp-provider.js";
import { eventually } from "../kit/eventually.js";
import { TwilioSimulator } from "../support/twilio-simulator.js";

const SID = "AC0123456789abcdef0123456789abcdef";
const TOKEN = "twilio-test-auth-token";
const MESSAGE_ID = "0192f0c4-7a3e-7b61-9c1d-2e3f4a5b6c7d";
const ACCOUNT_ID = "7d1c2b3a-4f5e-4d6c-8b7a-9e0f1a2b3c4d";
const CONTENT_SID = "HXb5b62575e6e4ff6129ad7c8efe1f983e";

const account: ProviderAccount = {
  id: ACCOUNT_ID,
  tenantId: "acme",
  provider: "twilio",
  phoneNumberId: "+14155238886",
  wabaId: "",
  displayPhoneNumber: "+14155238886",
  twilioAccountSid: SID,
  twilioAuthToken: TOKEN,
  metadata: { [`twilio_content:order_update:es`]: CONTENT_SID },
};

/** Our service's webhook stand-in: records the callbacks Twilio posts and answers TwiML. */
class CallbackReceiver {
  readonly received: { url: string; body: string; signature: string | undefined }[] = [];
  url = "";
  readonly #server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      this.received.push({ url: `${this.url}${req.url ?? ""}`, body: Buffer.concat(chunks).toString("utf8"), signature: req.headers["x-twilio-signature"] as string | undefined });
      res.writeHead(200, { "content-type": "text/xml" });
      res.end("<Response/>");
    });
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

let sim: TwilioSimulator;
let receiver: CallbackReceiver;
let client: TwilioClient;
let provider: TwilioProvider;

beforeAll(async () => {
  sim = await TwilioSimulator.start();
  sim.addAccount(SID, TOKEN);
  receiver = new CallbackReceiver();
  await receiver.start();
  client = new TwilioClient({ baseUrl: sim.url, timeoutMs: 1_000 });
  provider = new TwilioProvider({ client, publicUrl: `${receiver.url}/` });
});

afterAll(async () => {
  client.close();
  await sim.close();
  await receiver.close();
});

function send(to: string, body: OutboundSend["body"], overrides: Partial<ProviderAccount> = {}): Promise<SendOutcome> {
  return provider.send({ ...account, ...overrides }, { messageId: MESSAGE_ID, to, body });
}

function lastFormTo(to: string): [string, string][] {
  const requests = sim.requestsTo(to);
  expect(requests.length).toBeGreaterThan(0);
  return requests[requests.length - 1]!.form;
}

const callback = (messageId = MESSAGE_ID) => `${receiver.url}/webhook/twilio/${ACCOUNT_ID}?message_id=${messageId}`;

describe("TwilioProvider.send against the simulator", () => {
  it("when a text is sent, then Twilio gets exactly To, From, Body and StatusCallback with basic auth, and the SID is the provider id", async () => {
    const outcome = await send("593991234567", { type: "text", text: { body: "Hola, tu pedido salió 🚚" } });
    expect(outcome).toMatchObject({ kind: "accepted", providerMessageId: expect.stringMatching(/^SM[0-9a-f]{32}$/) as string });
    const request = sim.requestsTo("+593991234567")[0]!;
    expect(request.accountSid).toBe(SID);
    expect(request.authorization).toBe(`Basic ${Buffer.from(`${SID}:${TOKEN}`).toString("base64")}`);
    expect(request.form).toEqual([
      ["To", "whatsapp:+593991234567"],
      ["From", "whatsapp:+14155238886"],
      ["Body", "Hola, tu pedido salió 🚚"],
      ["StatusCallback", callback()],
    ]);
    expect(request.body).toBe(
      `To=whatsapp%3A%2B593991234567&From=whatsapp%3A%2B14155238886&Body=Hola%2C+tu+pedido+sali%C3%B3+%F0%9F%9A%9A&StatusCallback=${encodeURIComponent(callback())}`,
    );
    expect(outcome.kind === "accepted" && outcome.providerMessageId).toBe(request.sid);
  });

  it("when an image by link with a caption is sent through a Messaging Service, then Body is the caption and MediaUrl the link", async () => {
    const outcome = await send(
      "593991234568",
      { type: "image", image: { link: "https://cdn.example.com/p/42.jpg", caption: "Tu paquete" } },
      { twilioMessagingServiceSid: "MG0123456789abcdef0123456789abcdef" },
    );
    expect(outcome.kind).toBe("accepted");
    expect(lastFormTo("+593991234568")).toEqual([
      ["To", "whatsapp:+593991234568"],
      ["From", "whatsapp:+14155238886"],
      ["Body", "Tu paquete"],
      ["MediaUrl", "https://cdn.example.com/p/42.jpg"],
      ["MessagingServiceSid", "MG0123456789abcdef0123456789abcdef"],
      ["StatusCallback", callback()],
    ]);
    expect(outcome.kind === "accepted" && outcome.providerMessageId).toMatch(/^MM/);
  });

  it("when a template is sent, then it goes as the mapped ContentSid with positional and named ContentVariables", async () => {
    const outcome = await send("593991234569", {
      type: "template",
      template: {
        name: "order_update",
        language: { code: "es" },
        components: [
          { type: "header", parameters: [{ type: "text", text: "Pedido 42" }] },
          { type: "body", parameters: [{ type: "text", text: "Ana" }, { type: "date_time", date_time: { fallback_value: "12/1 3pm" } }] },
          { type: "button", sub_type: "url", index: "0", parameters: [{ type: "text", parameter_name: "tracking", text: "TRK9" }] },
        ],
      },
    });
    expect(outcome.kind).toBe("accepted");
    expect(lastFormTo("+593991234569")).toEqual([
      ["To", "whatsapp:+593991234569"],
      ["From", "whatsapp:+14155238886"],
      ["ContentSid", CONTENT_SID],
      ["ContentVariables", '{"1":"Pedido 42","2":"Ana","3":"12/1 3pm","tracking":"TRK9"}'],
      ["StatusCallback", callback()],
    ]);
  });

  it("when a template has no Content SID mapped, or content has no Twilio form, then it is refused for good before any request", async () => {
    const before = sim.requests.length;
    const unmapped = await send("593991234570", { type: "template", template: { name: "other", language: { code: "es" } } });
    expect(unmapped).toMatchObject({ kind: "rejected", error: { code: 0, title: "Not supported by Twilio", httpStatus: 400 } });
    expect(unmapped.kind === "rejected" && unmapped.error.details).toContain('"twilio_content:other:es"');
    const byId = await send("593991234570", { type: "image", image: { id: "1234567890" } });
    expect(byId.kind === "rejected" && byId.error.details).toContain("by media id");
    const bsuid = await send("US.13491208655302741918", { type: "text", text: { body: "hi" } });
    expect(bsuid.kind).toBe("rejected");
    expect(sim.requests.length).toBe(before);
    if (unmapped.kind === "rejected") expect(decideAfterError(unmapped.error, 1, DEFAULT_RETRY_POLICY)).toEqual({ kind: "fail", retryable: false, reason: "permanent" });
  });

  it("when Twilio refuses the number (21211, 21614), then the send is rejected for good", async () => {
    sim.failRecipient("+593990000001", 21211);
    sim.failRecipient("+593990000002", 21614);
    for (const to of ["593990000001", "593990000002"]) {
      const outcome = await send(to, { type: "text", text: { body: "x" } });
      expect(outcome).toMatchObject({ kind: "rejected", error: { httpStatus: 400 } });
      if (outcome.kind !== "rejected") throw new Error("not rejected");
      expect([21211, 21614]).toContain(outcome.error.code);
      expect(decideAfterError(outcome.error, 1, DEFAULT_RETRY_POLICY)).toEqual({ kind: "fail", retryable: false, reason: "permanent" });
    }
  });

  it("when Twilio throttles (20429) or fails (5xx), then the send is retried with backoff", async () => {
    sim.failRecipient("+593990000003", 20429);
    const throttled = await send("593990000003", { type: "text", text: { body: "x" } });
    expect(throttled).toMatchObject({ kind: "rejected", error: { code: 20429, title: "Too many requests", httpStatus: 429 } });
    if (throttled.kind !== "rejected") throw new Error("not rejected");
    expect(decideAfterError(throttled.error, 1, DEFAULT_RETRY_POLICY, () => 0)).toEqual({ kind: "retry", delayMs: 500 });

    sim.failNext(1, { kind: "error", httpStatus: 503, code: 20503, message: "Service Unavailable" }, SID);
    const outage = await send("593990000004", { type: "text", text: { body: "x" } });
    expect(outage).toMatchObject({ kind: "rejected", error: { code: 20503, httpStatus: 503, details: "Service Unavailable" } });
    if (outage.kind !== "rejected") throw new Error("not rejected");
    expect(decideAfterError(outage.error, 2, DEFAULT_RETRY_POLICY, () => 0)).toEqual({ kind: "retry", delayMs: 1_000 });
  });

  it("when the auth token is wrong, then the account is paused (20003), not the message failed", async () => {
    const outcome = await send("593990000005", { type: "text", text: { body: "x" } }, { twilioAuthToken: "wrong" });
    expect(outcome).toMatchObject({ kind: "rejected", error: { code: 20003, httpStatus: 401 } });
    if (outcome.kind !== "rejected") throw new Error("not rejected");
    expect(decideAfterError(outcome.error, 1, DEFAULT_RETRY_POLICY)).toEqual({ kind: "pause_account" });
  });

  it("when the request left and no answer came, then the outcome is unknown (never sent again blindly)", async () => {
    sim.failNext(1, { kind: "hang", accepted: true }, SID);
    const outcome = await send("593990000006", { type: "text", text: { body: "x" } });
    expect(outcome).toMatchObject({ kind: "unknown", error: { code: 0, title: "Timeout", httpStatus: 0 } });
    expect(sim.requestsTo("+593990000006")).toMatchObject([{ outcome: "accepted", answered: false }]);
  });

  it("when nothing listens at TWILIO_BASE_URL, then the send is rejected as a network error (safe to retry)", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const offline = new TwilioProvider({ client: new TwilioClient({ baseUrl: `http://127.0.0.1:${port}` }), publicUrl: undefined });
    const outcome = await offline.send(account, { messageId: MESSAGE_ID, to: "593990000007", body: { type: "text", text: { body: "x" } } });
    expect(outcome).toMatchObject({ kind: "rejected", error: { code: 0, title: "Network error", httpStatus: 0 } });
    if (outcome.kind !== "rejected") throw new Error("not rejected");
    expect(decideAfterError(outcome.error, 1, DEFAULT_RETRY_POLICY, () => 0)).toEqual({ kind: "retry", delayMs: 500 });
  });

  it("when a send fails outside the window (63016), then Twilio accepts it and the signed status callback reports failed with 63016", async () => {
    sim.failRecipient("+593990000008", 63016);
    const outcome = await send("593990000008", { type: "text", text: { body: "fuera de ventana" } });
    expect(outcome.kind).toBe("accepted");
    const sid = outcome.kind === "accepted" ? outcome.providerMessageId : "";
    await eventually("the failed status callback", () => (receiver.received.some((r) => r.body.includes(sid)) ? true : undefined));
    const posted = receiver.received.find((r) => r.body.includes(sid))!;
    expect(posted.url).toBe(callback());
    expect(checkTwilioSignature(TOKEN, posted.url, [...new URLSearchParams(posted.body)], posted.signature)).toBe("valid");
    const [change] = parseTwilioWebhookBody(posted.body, { receivedAt: new Date(), url: posted.url.slice(receiver.url.length) }).changes as MessagingChange[];
    expect(change!.statuses).toMatchObject([{ wamid: sid, status: "failed", bizOpaqueCallbackData: MESSAGE_ID, errors: [{ code: 63016 }] }]);
    expect(decideAfterError({ code: 63016, httpStatus: 400 }, 1, DEFAULT_RETRY_POLICY)).toEqual({ kind: "fail", retryable: false, reason: "permanent" });
  });

  it("when statuses are automatic, then sent, delivered and read are posted in order, signed", async () => {
    sim.autoStatuses = ["sent", "delivered", "read"];
    try {
      const outcome = await send("593990000009", { type: "text", text: { body: "hola" } });
      const sid = outcome.kind === "accepted" ? outcome.providerMessageId : "";
      await eventually("three status callbacks", () => (receiver.received.filter((r) => r.body.includes(sid)).length === 3 ? true : undefined));
      const statuses = receiver.received.filter((r) => r.body.includes(sid)).map((r) => new URLSearchParams(r.body).get("MessageStatus"));
      expect(statuses).toEqual(["sent", "delivered", "read"]);
      for (const r of receiver.received.filter((x) => x.body.includes(sid))) {
        expect(checkTwilioSignature(TOKEN, r.url, [...new URLSearchParams(r.body)], r.signature)).toBe("valid");
      }
    } finally {
      sim.autoStatuses = [];
    }
  });

  it("when MarkAsRead is asked of Twilio, then it is refused with the reason", async () => {
    await expect(provider.markAsRead()).resolves.toMatchObject({ kind: "rejected", error: { title: "Not supported by Twilio" } });
  });
});
