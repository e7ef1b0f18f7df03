import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { describe, expect, it } from "vitest";

import type { InboundMessage, ManagementChange, MessagingChange } from "../../../domain/inbound.js";
import { MalformedWebhookError, parseMetaWebhook, parseMetaWebhookBody } from "./webhook-payload.js";

const FIXTURES = fileURLToPath(new URL("../../../../test/fixtures/meta/", import.meta.url));
const receivedAt = new Date("2025-06-01T12:00:00Z");

function fixture(name: string): string {
  return readFileSync(`${FIXTURES}${name}.json`, "utf8");
}

function messagingChange(name: string): MessagingChange {
  const [change] = parseMetaWebhookBody(fixture(name), { receivedAt }).changes;
  if (change?.kind !== "messaging") throw new Error(`${name}: no messages change`);
  return change;
}

function onlyMessage(name: string): InboundMessage {
  const change = messagingChange(name);
  expect(change.messages).toHaveLength(1);
  return change.messages[0]!;
}

function management(name: string): ManagementChange {
  const [change] = parseMetaWebhookBody(fixture(name), { receivedAt }).changes;
  if (change?.kind !== "management") throw new Error(`${name}: no management change`);
  return change;
}

describe("parseMetaWebhook: messages", () => {
  it("when a text message arrives, then sender, receiver, time and body are normalised", () => {
    const m = onlyMessage("pywa_message__text");
    expect(m).toMatchObject({
      wamid: "wamid.xyzxyz",
      type: "text",
      from: "+972987654321",
      waId: "972987654321",
      to: "+972123456789",
      phoneNumberId: "1122334455667",
      provider: "meta",
      text: "Body Text",
      errors: [],
    });
    expect(m.timestamp.toISOString()).toBe(new Date(1697043223 * 1000).toISOString());
    expect(m.content).toBeUndefined();
    expect(m.raw).toBeUndefined();
  });

  it("when the contact carries BSUID fields, then user id, parent user id and username are read", () => {
    expect(messagingChange("pywa_message__text").contacts).toEqual([
      { waId: "972987654321", profileName: "Test Name", userId: "US.13491208655302741918", parentUserId: "US.ENT.11815799212886844830" },
    ]);
    expect(messagingChange("ref_message__ctwa_referral").contacts[0]).toMatchObject({ username: "sheena", userId: "US.13491208655302741918" });
    expect(onlyMessage("pywa_callback_button__quick_reply_without_context").fromUserId).toBe("US.13491208655302741918");
  });

  it("when media arrives, then id, mime type, sha256, caption, filename, voice and animated are kept", () => {
    expect(onlyMessage("pywa_message__image").content).toEqual({
      kind: "media",
      media: { mediaId: "65463453", mimeType: "image/jpeg", sha256: "4654+8g=" },
    });
    expect(onlyMessage("pywa_message__media_with_url").content).toMatchObject({
      media: { url: expect.stringMatching(/^https:\/\/lookaside\.fbsbx\.com\//) },
    });
    const video = onlyMessage("pywa_message__video");
    expect(video).toMatchObject({ type: "video", text: "caption", content: { media: { caption: "caption", mimeType: "video/mp4" } } });
    const document = onlyMessage("pywa_message__document");
    expect(document.content).toMatchObject({ media: { filename: "filename.pdf", caption: "caption", mimeType: "application/pdf" } });
    expect(onlyMessage("pywa_message__voice").content).toMatchObject({ media: { voice: true } });
    expect(onlyMessage("pywa_message__audio").content).toMatchObject({ media: { voice: false } });
    expect(onlyMessage("pywa_message__animated_sticker").content).toMatchObject({ media: { animated: true, mimeType: "image/webp" } });
    expect(onlyMessage("pywa_message__static_sticker").content).toMatchObject({ media: { animated: false } });
  });

  it("when a location arrives, then coordinates stay numbers and name, address and url are kept", () => {
    expect(onlyMessage("pywa_message__current_location").content).toEqual({
      kind: "location",
      location: { latitude: 12.25089, longitude: 43.90539 },
    });
    expect(onlyMessage("pywa_message__chosen_location").content).toEqual({
      kind: "location",
      location: {
        latitude: 37.4611978,
        longitude: -122.2164385,
        name: "Facebook HQ",
        address: "1 Hacker Way, Menlo Park, CA 94025",
        url: "https://maps.google.com/?cid=2000000000000000000",
      },
    });
  });

  it("when contact cards arrive, then every card is kept with the parts present", () => {
    const m = onlyMessage("pywa_message__contacts");
    if (m.content?.kind !== "contacts") throw new Error("not contacts");
    expect(m.content.contacts).toHaveLength(3);
    expect(m.content.contacts[0]).toMatchObject({
      name: { formattedName: "Chandler Bing", firstName: "Chandler", lastName: "Bing" },
      phones: [{ phone: "+1 555-555-5555", waId: "972987654321", type: "CELL" }],
      emails: [],
    });
  });

  it("when interactive replies arrive, then button, list and Flow replies are told apart", () => {
    expect(onlyMessage("pywa_callback_button__button")).toMatchObject({
      type: "interactive",
      text: "title",
      content: { kind: "interactive", interactive: { kind: "button_reply", id: "callback_data", title: "title" } },
      context: { repliedToWamid: "wamid.xyzxyz" },
    });
    expect(onlyMessage("pywa_callback_selection__description").content).toEqual({
      kind: "interactive",
      interactive: { kind: "list_reply", id: "callback_data", title: "title", description: "description" },
    });
    expect(onlyMessage("pywa_flow_completion__completion").content).toMatchObject({
      interactive: { kind: "nfm_reply", body: "Sent", name: "flow", flowToken: "AQAAAAACS5FpgQ_cAAAAAD0QI3s." },
    });
    expect(onlyMessage("pywa_flow_completion__without_flow_token").content).toMatchObject({
      interactive: { kind: "nfm_reply", flowToken: undefined },
    });
  });

  it("when an interactive message has no interactive object, then it is unsupported, raw kept, with the change's errors", () => {
    const m = onlyMessage("pywa_message__interactive_message_with_err");
    expect(m).toMatchObject({ type: "unsupported", unsupportedType: "interactive", errors: [{ code: 131000, details: "Unsupported webhook payload" }] });
    expect(m.raw).toMatchObject({ id: "wamid.wegrchytvwcggt=", type: "interactive" });
  });

  it("when a template quick-reply is tapped, then payload and text are kept", () => {
    expect(onlyMessage("pywa_callback_button__quick_reply")).toMatchObject({
      type: "button",
      text: "title",
      content: { kind: "button", button: { payload: "callback_data", text: "title" } },
      context: { repliedToWamid: "wamid.xyzxyz==" },
    });
  });

  it("when a reaction is sent or removed (emoji empty or missing), then the emoji is kept or empty", () => {
    expect(onlyMessage("pywa_message__reaction").content).toEqual({
      kind: "reaction",
      reaction: { reactedToWamid: "wamid.yzxyzx=", emoji: "😮" },
    });
    for (const name of ["pywa_message__unreaction_empty", "pywa_message__unreaction_no_emoji"]) {
      expect(onlyMessage(name)).toMatchObject({ type: "reaction", text: "", content: { reaction: { emoji: "" } } });
    }
  });

  it("when an order arrives, then its items keep integer quantities and prices", () => {
    expect(onlyMessage("pywa_message__order").content).toEqual({
      kind: "order",
      order: {
        catalogId: "354160437058781",
        text: "",
        items: [
          { productRetailerId: "HAMBURGER", quantity: 3, itemPrice: 30, currency: "ILS" },
          { productRetailerId: "FRENCH_FRIES", quantity: 2, itemPrice: 35, currency: "ILS" },
          { productRetailerId: "SODA", quantity: 2, itemPrice: 10, currency: "ILS" },
        ],
      },
    });
  });

  it("when replies and forwards arrive, then the context says so", () => {
    expect(onlyMessage("pywa_message__reply").context).toEqual({
      repliedToWamid: "wamid.xyzxyz==",
      repliedToFrom: "+972123456789",
      forwarded: false,
      frequentlyForwarded: false,
    });
    expect(onlyMessage("pywa_message__forwarded").context).toMatchObject({ forwarded: true, frequentlyForwarded: false });
    expect(onlyMessage("pywa_message__forwarded_many_times").context).toMatchObject({ forwarded: false, frequentlyForwarded: true });
    expect(onlyMessage("ref_message__referred_product").context).toMatchObject({
      referredProduct: { catalogId: "194836987003835", productRetailerId: "di9ozbzfi4" },
    });
  });

  it("when a message came from an ad, then the referral is kept with its welcome message", () => {
    expect(onlyMessage("pywa_message__referral").referral).toMatchObject({ sourceId: "ADID", ctwaClid: "CTWA_CLID", headline: "AD_TITLE" });
    expect(onlyMessage("ref_message__ctwa_referral").referral).toMatchObject({
      sourceType: "ad",
      mediaType: "image",
      welcomeMessageText: "Hi there! Let us know how we can help.",
    });
  });

  it("when system notices arrive (no contacts), then the body, kind, new id and identity are kept", () => {
    const changed = messagingChange("pywa_system__phone_number_change");
    expect(changed.contacts).toEqual([]);
    expect(changed.messages[0]).toMatchObject({
      type: "system",
      waId: "972987654321",
      content: { kind: "system", system: { type: "user_changed_number", newWaId: "972912345678" } },
    });
    const identity = onlyMessage("pywa_system__identity_change");
    expect(identity.content).toMatchObject({ system: { type: "customer_identity_changed", identity: { acknowledged: true, hash: "xyzxyz" } } });
    expect(identity.raw).toMatchObject({ identity: { hash: "xyzxyz" } });
  });

  it("when Meta reports an unsupported message, then its kind and errors are kept with the raw object", () => {
    expect(onlyMessage("pywa_message__unsupported")).toMatchObject({ type: "unsupported", unsupportedType: "", errors: [{ code: 131051 }] });
    const withType = onlyMessage("pywa_message__unsupported_with_type");
    expect(withType).toMatchObject({ type: "unsupported", unsupportedType: "pool", errors: [{ code: 131051, title: "Message type unknown" }] });
    expect(withType.raw).toMatchObject({ unsupported: { type: "pool" } });
  });

  it("when a message type is newer than this code, then it is unsupported with that type and the raw object", () => {
    const m = onlyMessage("ref_message__newer_type");
    expect(m).toMatchObject({ type: "unsupported", unsupportedType: "poll_vote", errors: [] });
    expect(m.raw).toMatchObject({ poll_vote: { selected_options: ["Tuesday"] }, some_future_field: { nested: true } });
  });

  it("when a message has no id or no sender, then it is skipped, not stored half-read", () => {
    const delivery = parseMetaWebhook(
      {
        object: "whatsapp_business_account",
        entry: [{ id: "1", changes: [{ field: "messages", value: { metadata: { phone_number_id: "9" }, messages: [{ type: "text" }, { id: "wamid.a", type: "text" }] } }] }],
      },
      { receivedAt },
    );
    const change = delivery.changes[0] as MessagingChange;
    expect(change.messages).toEqual([]);
    expect(change.skipped.map((s) => s.what)).toEqual(["message", "message"]);
  });
});

describe("parseMetaWebhook: statuses", () => {
  it("when statuses arrive, then status, time, recipient, pricing and conversation are read", () => {
    const [sent] = messagingChange("pywa_message_status__sent").statuses;
    expect(sent).toMatchObject({
      wamid: "wamid.xyzxyz",
      status: "sent",
      providerStatus: "sent",
      recipientId: "972987654321",
      pricing: { billable: true, pricingModel: "CBP", category: "service" },
      conversation: { id: "7270432eae37498234f4444b35ffc5", originType: "service", expireTime: new Date(1698339900 * 1000) },
    });
    expect(sent?.timestamp).toEqual(new Date(1698266945 * 1000));
    expect(messagingChange("ref_status__sent_pmp").statuses[0]).toMatchObject({
      recipientUserId: "US.13491208655302741918",
      pricing: { pricingModel: "PMP", type: "regular", category: "marketing" },
    });
    expect(messagingChange("pywa_message_status__with_tracker").statuses[0]?.bizOpaqueCallbackData).toBe("some data");
    expect(messagingChange("pywa_message_status__group").statuses[0]).toMatchObject({ status: "read", recipientUserId: "US.123456" });
  });

  it("when a voice note is played, then it reads as read, keeping Meta's word", () => {
    expect(messagingChange("pywa_message_status__played").statuses[0]).toMatchObject({ status: "read", providerStatus: "played" });
  });

  it("when a status failed, then Meta's error code, title and details are kept", () => {
    expect(messagingChange("pywa_message_status__failed").statuses[0]).toMatchObject({
      status: "failed",
      errors: [{ code: 130472, title: "User's number is part of an experiment", details: expect.stringContaining("experiment") }],
    });
    expect(messagingChange("ref_status__failed_131047").statuses[0]).toMatchObject({
      pricing: undefined,
      conversation: undefined,
      errors: [{ code: 131047, title: "Re-engagement message" }],
    });
  });

  it("when a status is one this code does not know, then it is skipped", () => {
    const change = parseMetaWebhook(
      { entry: [{ id: "1", changes: [{ field: "messages", value: { metadata: { phone_number_id: "9" }, statuses: [{ id: "wamid.a", status: "deleted", timestamp: "1" }] } }] }] },
      { receivedAt },
    ).changes[0] as MessagingChange;
    expect(change.statuses).toEqual([]);
    expect(change.skipped).toEqual([{ what: "status", reason: expect.stringContaining("deleted") }]);
  });

  it("when a change carries only account-level errors, then they are read", () => {
    expect(messagingChange("ref_value_errors__130429").errors).toEqual([
      {
        code: 130429,
        title: "Rate limit hit",
        message: "Rate limit hit",
        details: "Cloud API message throughput has been reached.",
        href: "/documentation/business-messaging/whatsapp/support/error-codes",
      },
    ]);
  });
});

describe("parseMetaWebhook: management fields", () => {
  it("when a template status update arrives, then id (an integer in JSON), name, language, event and reason are read", () => {
    const approved = management("pywa_template_status_update__approved");
    expect(approved).toMatchObject({ field: "message_template_status_update", wabaId: "102290129340398", event: "APPROVED", time: new Date(1751247548 * 1000) });
    expect(approved.details).toEqual({
      kind: "template_status",
      template: { templateId: "1689556908129832", name: "order_confirmation", language: "en_US", event: "APPROVED", reason: "NONE", category: "UTILITY" },
    });
    expect(management("pywa_template_status_update__rejected").details).toMatchObject({
      template: { event: "REJECTED", reason: "INVALID_FORMAT", rejection: { recommendation: expect.stringContaining("Separate") } },
    });
  });

  it("when account updates arrive, then restrictions, violations and bans are read", () => {
    expect(management("pywa_account_update__account_restriction").details).toEqual({
      kind: "account",
      account: {
        event: "ACCOUNT_RESTRICTION",
        restrictions: [
          { type: "RESTRICTED_BIZ_INITIATED_MESSAGING", expireTime: new Date(1641330498 * 1000) },
          { type: "RESTRICTED_ADD_PHONE_NUMBER_ACTION", expireTime: new Date(1641330498 * 1000) },
        ],
      },
    });
    expect(management("pywa_account_update__account_violation").details).toMatchObject({ account: { violationType: "ADULT" } });
    expect(management("pywa_account_update__account_disabled").details).toMatchObject({ account: { ban: { state: "REINSTATE" } } });
  });

  it("when other management fields arrive, then they are kept with their field, event and phone number id", () => {
    expect(management("ref_phone_number_quality_update__throughput_upgrade").details).toMatchObject({
      kind: "phone_number_quality",
      quality: { event: "THROUGHPUT_UPGRADE", displayPhoneNumber: "15550783881", maxDailyConversationsPerBusiness: "TIER_UNLIMITED" },
    });
    expect(management("pywa_template_quality_update__yellow")).toMatchObject({ field: "message_template_quality_update", details: { kind: "other" } });
    expect(management("pywa_user_marketing_preferences__resume")).toMatchObject({ field: "user_preferences", phoneNumberId: "106540352242922" });
  });
});

describe("parseMetaWebhook: envelope", () => {
  it("when a delivery batches entries and changes, then every change is read in order", () => {
    const text = JSON.parse(fixture("pywa_message__text"));
    const status = JSON.parse(fixture("pywa_message_status__read"));
    const template = JSON.parse(fixture("pywa_template_status_update__approved"));
    const delivery = parseMetaWebhook(
      { object: "whatsapp_business_account", entry: [...text.entry, { ...status.entry[0], changes: [...status.entry[0].changes, ...template.entry[0].changes] }] },
      { receivedAt },
    );
    expect(delivery.changes.map((c) => (c.kind === "messaging" ? `messages:${c.messages.length}/${c.statuses.length}` : c.field))).toEqual([
      "messages:1/0",
      "messages:0/1",
      "message_template_status_update",
    ]);
  });

  it("when the body is not a WhatsApp Business Account webhook, then it is refused as malformed", () => {
    expect(() => parseMetaWebhookBody("{not json", { receivedAt })).toThrow(MalformedWebhookError);
    expect(() => parseMetaWebhook([], { receivedAt })).toThrow(MalformedWebhookError);
    expect(() => parseMetaWebhook({ object: "page", entry: [] }, { receivedAt })).toThrow(/whatsapp_business_account/);
    expect(() => parseMetaWebhook({ object: "whatsapp_business_account" }, { receivedAt })).toThrow(/entry/);
  });

  it("when a message has no timestamp, then the delivery's arrival time stands in", () => {
    const change = parseMetaWebhook(
      { entry: [{ changes: [{ field: "messages", value: { metadata: { phone_number_id: "9" }, messages: [{ id: "wamid.a", from: "15550001111", type: "text", text: { body: "hi" } }] } }] }] },
      { receivedAt },
    ).changes[0] as MessagingChange;
    expect(change.messages[0]?.timestamp).toEqual(receivedAt);
  });
});
