import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { describe, expect, it } from "vitest";

import type { InboundMessage, MessagingChange, StatusUpdate } from "../../../domain/inbound.js";
import { MalformedWebhookError, parseTwilioWebhookBody, reportedStatusFromTwilio, withoutChannel } from "./webhook-form.js";

const FIXTURES = fileURLToPath(new URL("../../../../test/fixtures/twilio/", import.meta.url));
const receivedAt = new Date("2026-12-04T10:00:00Z");
const AC = "AC1f0e2d3c4b5a69788796a5b4c3d2e1f0";

function fixture(name: string): string {
  return readFileSync(`${FIXTURES}${name}.form.txt`, "utf8");
}

function change(name: string, url?: string): MessagingChange {
  const { changes } = parseTwilioWebhookBody(fixture(name), { receivedAt, url });
  expect(changes).toHaveLength(1);
  const [only] = changes;
  if (only?.kind !== "messaging") throw new Error(`${name}: no messaging change`);
  return only;
}

function onlyMessage(name: string): InboundMessage {
  const c = change(name);
  expect(c.statuses).toEqual([]);
  expect(c.skipped).toEqual([]);
  expect(c.messages).toHaveLength(1);
  return c.messages[0]!;
}

function onlyStatus(name: string, url?: string): StatusUpdate {
  const c = change(name, url);
  expect(c.messages).toEqual([]);
  expect(c.skipped).toEqual([]);
  expect(c.statuses).toHaveLength(1);
  return c.statuses[0]!;
}

describe("parseTwilioWebhook: inbound messages", () => {
  it("when a text arrives, then it is normalised as Meta's: sender, business number, body, contact profile", () => {
    const c = change("ref_inbound_text");
    expect(c).toMatchObject({ provider: "twilio", phoneNumberId: "+14155238886", displayPhoneNumber: "+14155238886", wabaId: "" });
    expect(c.contacts).toEqual([{ waId: "6285176810035", profileName: "Rina Wijaya" }]);
    const m = onlyMessage("ref_inbound_text");
    expect(m).toEqual({
      wamid: "SM5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d",
      type: "text",
      from: "+6285176810035",
      waId: "6285176810035",
      fromUserId: undefined,
      to: "+14155238886",
      phoneNumberId: "+14155238886",
      provider: "twilio",
      timestamp: receivedAt,
      text: "Hola, quiero información sobre el envío 🚚",
      context: undefined,
      referral: undefined,
      content: undefined,
      unsupportedType: undefined,
      errors: [],
      raw: undefined,
    });
  });

  it("when an image with a caption arrives, then it is media with Twilio's URL, the ME SID as media id and the caption as text", () => {
    const m = onlyMessage("ref_inbound_image");
    expect(m.type).toBe("image");
    expect(m.text).toBe("Foto del paquete");
    expect(m.content).toEqual({
      kind: "media",
      media: {
        mediaId: "ME9e8d7c6b5a49382716a5b4c3d2e1f0a9",
        mimeType: "image/jpeg",
        sha256: "",
        caption: "Foto del paquete",
        voice: undefined,
        animated: undefined,
        url: `https://api.twilio.com/2010-04-01/Accounts/${AC}/Messages/MM0f1e2d3c4b5a69788796a5b4c3d2e1f0/Media/ME9e8d7c6b5a49382716a5b4c3d2e1f0a9`,
      },
    });
  });

  it("when audio or a PDF arrives without caption, then the type follows the content type and the text is empty", () => {
    const voice = onlyMessage("ref_inbound_voice");
    expect(voice).toMatchObject({ type: "audio", text: "", content: { kind: "media", media: { mimeType: "audio/ogg", voice: false, caption: undefined } } });
    const pdf = onlyMessage("ref_inbound_document");
    expect(pdf).toMatchObject({ type: "document", text: "", content: { kind: "media", media: { mimeType: "application/pdf", mediaId: "ME1b2c3d4e5f60718293a4b5c6d7e8f90a" } } });
  });

  it("when a location arrives, then latitude, longitude, label and address are read", () => {
    const m = onlyMessage("ref_inbound_location");
    expect(m.type).toBe("location");
    expect(m.content).toEqual({
      kind: "location",
      location: { latitude: -6.2087634, longitude: 106.845599, name: "Grand Indonesia", address: "Jl. M.H. Thamrin No.1, Jakarta" },
    });
  });

  it("when an interactive reply button is tapped, then it is an interactive button reply with the payload as id", () => {
    const m = onlyMessage("ref_inbound_button_reply");
    expect(m).toMatchObject({
      type: "interactive",
      text: "Verify email",
      content: { kind: "interactive", interactive: { kind: "button_reply", id: "{verifyEmail:asd@asd.com}", title: "Verify email" } },
    });
  });

  it("when a template's quick reply is tapped, then it is a button with payload and text", () => {
    const m = onlyMessage("ref_inbound_quick_reply");
    expect(m).toMatchObject({ type: "button", text: "Yes, confirm", content: { kind: "button", button: { payload: "confirm_order_42", text: "Yes, confirm" } } });
  });

  it("when the user quotes a message, then the context names the replied SID and its sender", () => {
    const m = onlyMessage("ref_inbound_reply");
    expect(m.context).toEqual({ repliedToWamid: "SMaf9e8d7c6b5a49382716a5b4c3d2e1f0", repliedToFrom: "+14155238886", forwarded: false, frequentlyForwarded: false });
  });

  it("when a message was forwarded many times, then both forward flags are set", () => {
    expect(onlyMessage("ref_inbound_forwarded").context).toEqual({ forwarded: true, frequentlyForwarded: true });
  });

  it("when a click-to-WhatsApp ad opened the chat, then the referral is read", () => {
    expect(onlyMessage("ref_inbound_referral").referral).toEqual({
      body: "Envíos gratis esta semana",
      headline: "Promo",
      sourceId: "120210000000000001",
      sourceType: "ad",
      sourceUrl: "https://fb.me/abc123",
      ctwaClid: "ARAkLkA8rmlFeiCktEJQ",
    });
  });

  it("when ExternalUserId carries a BSUID, then it is read like Meta's user_id and from_user_id", () => {
    const c = change("ref_inbound_bsuid");
    expect(c.contacts).toEqual([{ waId: "6285176810035", profileName: "Rina Wijaya", userId: "ID.4566546130240823" }]);
    expect(c.messages[0]).toMatchObject({ waId: "6285176810035", fromUserId: "ID.4566546130240823", from: "+6285176810035" });
  });

  it("when a username adopter writes with only a BSUID, then the message is kept with an empty phone", () => {
    const form = new URLSearchParams(fixture("ref_inbound_bsuid"));
    form.delete("WaId");
    form.set("From", "whatsapp:ID.4566546130240823");
    const [c] = parseTwilioWebhookBody(form.toString(), { receivedAt }).changes as MessagingChange[];
    expect(c!.messages[0]).toMatchObject({ waId: "", from: "", fromUserId: "ID.4566546130240823" });
    expect(c!.contacts).toEqual([{ waId: "", profileName: "Rina Wijaya", userId: "ID.4566546130240823" }]);
  });

  it("when a message names no sender at all, then it is skipped, not stored", () => {
    const form = new URLSearchParams(fixture("ref_inbound_text"));
    form.delete("WaId");
    form.set("From", "whatsapp:");
    const [c] = parseTwilioWebhookBody(form.toString(), { receivedAt }).changes as MessagingChange[];
    expect(c!.messages).toEqual([]);
    expect(c!.skipped).toEqual([{ what: "message", reason: "message SM5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d without a sender" }]);
  });

  it("when Twilio adds parameters we do not know, then they change nothing", () => {
    const form = new URLSearchParams(fixture("ref_inbound_text"));
    form.set("SomethingNew", "42");
    const [c] = parseTwilioWebhookBody(form.toString(), { receivedAt }).changes as MessagingChange[];
    expect(c!.messages[0]).toEqual(onlyMessage("ref_inbound_text"));
  });
});

describe("parseTwilioWebhook: status callbacks", () => {
  it("when sent, delivered and read arrive, then each is a status of the SID, routed by the sender number", () => {
    for (const [name, status] of [
      ["ref_status_sent", "sent"],
      ["ref_status_delivered", "delivered"],
      ["ref_status_read", "read"],
    ] as const) {
      expect(change(name)).toMatchObject({ provider: "twilio", phoneNumberId: "+14155238886" });
      expect(onlyStatus(name)).toMatchObject({
        wamid: "SMd3c2b1a0f9e8d7c6b5a49382716a5b4c",
        status,
        providerStatus: status,
        timestamp: receivedAt,
        recipientId: "6285176810035",
        recipientUserId: undefined,
        errors: [],
      });
    }
  });

  it("when a send failed outside the window, then the status is failed with Twilio's 63016", () => {
    expect(onlyStatus("ref_status_failed_63016")).toMatchObject({
      status: "failed",
      providerStatus: "failed",
      errors: [
        {
          code: 63016,
          title: "Outside messaging window. For WhatsApp, use a Message Template instead",
          message: expect.stringContaining("outside the allowed window") as string,
          details: "",
          href: "https://www.twilio.com/docs/errors/63016",
        },
      ],
    });
  });

  it("when a message is undelivered, then it counts as failed and keeps Twilio's word for it", () => {
    expect(onlyStatus("ref_status_undelivered_63024")).toMatchObject({ status: "failed", providerStatus: "undelivered", errors: [{ code: 63024 }] });
  });

  it("when an interim status (queued) arrives, then it is skipped with the reason", () => {
    const c = change("ref_status_queued");
    expect(c.statuses).toEqual([]);
    expect(c.skipped).toEqual([{ what: "status", reason: 'Twilio status "queued" of SMd3c2b1a0f9e8d7c6b5a49382716a5b4c changes nothing here' }]);
  });

  it("when the callback URL names our message, then the status carries it where the reconciliation looks", () => {
    const id = "0192f0c4-7a3e-7b61-9c1d-2e3f4a5b6c7d";
    const s = onlyStatus("ref_status_sent", `/webhook/twilio/acc?message_id=${id}`);
    expect(s.bizOpaqueCallbackData).toBe(id);
    expect((s.raw as Record<string, string>).biz_opaque_callback_data).toBe(id);
    expect(onlyStatus("ref_status_sent", "/webhook/twilio/acc?message_id=not-a-uuid").bizOpaqueCallbackData).toBeUndefined();
  });

  it("maps every Twilio status: final ones to ours, interim ones to nothing", () => {
    expect(["queued", "sending", "sent", "delivered", "read", "undelivered", "failed", "accepted", "scheduled", "canceled"].map(reportedStatusFromTwilio)).toEqual([
      undefined,
      undefined,
      "sent",
      "delivered",
      "read",
      "failed",
      "failed",
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe("parseTwilioWebhook: every fixture", () => {
  it("when any captured form is parsed, then it gives exactly one routed change with one message, one status or one skipped item", () => {
    const names = readdirSync(FIXTURES).filter((f) => f.endsWith(".form.txt"));
    expect(names.length).toBeGreaterThanOrEqual(17);
    for (const file of names) {
      const c = change(file.replace(/\.form\.txt$/, ""));
      expect(c.phoneNumberId, file).toBe("+14155238886");
      expect(c.messages.length + c.statuses.length + c.skipped.length, file).toBe(1);
    }
  });

  it("when the body is not a Twilio messaging webhook, then it is malformed", () => {
    expect(() => parseTwilioWebhookBody("hello=world", { receivedAt })).toThrow(MalformedWebhookError);
    expect(() => parseTwilioWebhookBody("MessageSid=SM1", { receivedAt })).toThrow(/AccountSid/);
  });

  it("strips the channel prefix from addresses", () => {
    expect(withoutChannel("whatsapp:+14155238886")).toBe("+14155238886");
    expect(withoutChannel("whatsapp:ID.45")).toBe("ID.45");
    expect(withoutChannel(undefined)).toBe("");
  });
});
