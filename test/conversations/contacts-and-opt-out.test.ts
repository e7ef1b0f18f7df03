/**
 * Contacts (GetContact / ListContacts), per-tenant conversation settings
 * (Get/UpdateConversationSettings), opt-out / opt-in by keyword and by
 * Meta's user_preferences webhook, and StartConversation's refusal of
 * marketing to opted-out contacts — through the real service.
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import type { Account } from "../../gen/whatsapp/v1/account_pb.js";
import { ConversationSource } from "../../gen/whatsapp/v1/common_pb.js";
import { Priority } from "../../gen/whatsapp/v1/message_pb.js";
import { deliver, metaEnvelope, type Json } from "../support/meta-simulator.js";
import { APP_SECRET, approveTemplate, createAccount, newWaId, receive, startHarness, TEMPLATE, tenantClients, type Harness, type Tenant } from "./support.js";
import { refusal } from "../support/refusal.js";
import { eventually } from "../kit/eventually.js";

let harness: Harness;
let tenant: Tenant;
let account: Account;

beforeAll(async () => {
  harness = await startHarness();
  tenant = tenantClients(harness, "contacts");
  account = await createAccount(tenant);
});

afterAll(async () => {
  await harness?.cleanup();
});

async function contactOf(waId: string) {
  const { contacts } = await tenant.conversations.listContacts({ phone: `+${waId}` });
  expect(contacts).toHaveLength(1);
  return contacts[0]!;
}

describe("conversation settings", () => {
  it("when a tenant with no account yet reads and changes its settings, then it sees the defaults, then its own values, and bad values are refused by field", async () => {
    const fresh = tenantClients(harness, "settings");
    const defaults = (await fresh.conversations.getConversationSettings({})).settings!;
    expect(defaults.optOutKeywords).toContain("STOP");
    expect(defaults.optOutKeywords).toContain("BAJA");
    expect(defaults.optInKeywords).toContain("START");
    expect(defaults.inactivityTimeoutSeconds).toBe(86_400);
    expect(defaults.updateTime).toBeUndefined();

    const updated = (
      await fresh.conversations.updateConversationSettings({
        settings: { optOutKeywords: ["Basta", "  no quiero más  ", "BASTA!"], inactivityTimeoutSeconds: 7200 },
      })
    ).settings!;
    expect(updated.optOutKeywords).toEqual(["Basta", "no quiero más"]);
    expect(updated.optInKeywords).toEqual(defaults.optInKeywords);
    expect(updated.inactivityTimeoutSeconds).toBe(7200);
    expect(updated.updateTime).toBeDefined();
    expect((await fresh.conversations.getConversationSettings({})).settings).toEqual(updated);

    // With a mask, an empty list and 0 restore the defaults.
    const reset = (
      await fresh.conversations.updateConversationSettings({ settings: {}, updateMask: { paths: ["opt_out_keywords", "inactivity_timeout_seconds"] } })
    ).settings!;
    expect([reset.optOutKeywords, reset.inactivityTimeoutSeconds]).toEqual([defaults.optOutKeywords, 86_400]);

    const tooShort = await refusal(fresh.conversations.updateConversationSettings({ settings: { inactivityTimeoutSeconds: 30 } }));
    expect(tooShort.code).toBe(Code.InvalidArgument);
    const punctuation = await refusal(fresh.conversations.updateConversationSettings({ settings: { optInKeywords: ["ok", "!!!"] } }));
    expect(punctuation.code).toBe(Code.InvalidArgument);
    expect(punctuation.rawMessage).toContain("opt_in_keywords[1]");
    const unknownPath = await refusal(fresh.conversations.updateConversationSettings({ settings: {}, updateMask: { paths: ["update_time"] } }));
    expect(unknownPath.code).toBe(Code.InvalidArgument);
  });
});

describe("opt-out and opt-in", () => {
  it("when contacts write an opt-out keyword (any case, accents, punctuation), then they are opted out; an opt-in keyword clears it; sentences do not count", async () => {
    const [ana, beto, ceci] = [newWaId(), newWaId(), newWaId()];
    await receive(harness, tenant, account, [
      { from: ana, body: "  BáJa. " },
      { from: beto, body: "stop sending me the menu please" },
      { from: ceci, body: "STOP" },
    ]);
    expect((await contactOf(ana)).optedOut).toBe(true);
    expect((await contactOf(beto)).optedOut).toBe(false);
    expect((await contactOf(ceci)).optedOut).toBe(true);

    await receive(harness, tenant, account, [{ from: ana, body: "alta" }]);
    expect((await contactOf(ana)).optedOut).toBe(false);

    const optedOut = await tenant.conversations.listContacts({ optedOut: true });
    expect(optedOut.contacts.map((c) => c.waId)).toEqual([ceci]);
  });

  it("when the tenant sets its own keywords, then those count and the defaults no longer do", async () => {
    await tenant.conversations.updateConversationSettings({ settings: { optOutKeywords: ["Basta ya"], optInKeywords: ["Vuelvo"] } });
    const [dani, eli] = [newWaId(), newWaId()];
    await receive(harness, tenant, account, [
      { from: dani, body: "¡BASTA   YA!" },
      { from: eli, body: "STOP" },
    ]);
    expect((await contactOf(dani)).optedOut).toBe(true);
    expect((await contactOf(eli)).optedOut).toBe(false);
    await receive(harness, tenant, account, [{ from: dani, body: "vuelvo" }]);
    expect((await contactOf(dani)).optedOut).toBe(false);
    await tenant.conversations.updateConversationSettings({ settings: {}, updateMask: { paths: ["opt_out_keywords", "opt_in_keywords"] } });
  });

  it("when Meta reports a user stopped and then resumed marketing messages (user_preferences), then the contact is opted out, then in again", async () => {
    const waId = newWaId();
    await receive(harness, tenant, account, [{ from: waId, body: "hola" }]);
    const preference = (value: "stop" | "resume", timestamp: number) =>
      metaEnvelope(account.wabaId, [
        {
          field: "user_preferences",
          value: {
            messaging_product: "whatsapp",
            metadata: { display_phone_number: account.displayPhoneNumber.replace("+", ""), phone_number_id: account.phoneNumberId },
            contacts: [{ profile: { name: "Test" }, wa_id: waId }] as Json,
            user_preferences: [{ wa_id: waId, detail: `User requested to ${value} marketing messages`, category: "marketing_messages", value, timestamp }] as Json,
          },
        },
      ]);
    const url = `${harness.svc.service.url}/webhook`;
    expect((await deliver(url, preference("stop", 1_731_705_721), { appSecret: APP_SECRET })).status).toBe(200);
    await eventually("the contact to be opted out", async () => ((await contactOf(waId)).optedOut ? true : undefined));
    expect((await deliver(url, preference("resume", 1_731_705_821), { appSecret: APP_SECRET })).status).toBe(200);
    await eventually("the contact to be opted in again", async () => ((await contactOf(waId)).optedOut ? undefined : true));
  });

  it("when a post-call conversation would start with a marketing template to an opted-out contact, then it is refused; a utility template goes", async () => {
    await approveTemplate(harness, tenant, account, "MARKETING", "promo_spring");
    await approveTemplate(harness, tenant, account, "UTILITY");
    const waId = newWaId();
    await receive(harness, tenant, account, [{ from: waId, body: "STOP" }]);
    const start = { accountId: account.id, phone: `+${waId}`, source: ConversationSource.POST_CALL, context: "llamada" };
    const marketing = await refusal(tenant.conversations.startConversation({ ...start, template: { name: "promo_spring", language: TEMPLATE.language } }));
    expect(marketing.code).toBe(Code.FailedPrecondition);
    expect(marketing.findDetails(ErrorInfoSchema).map((d) => d.reason)).toEqual(["CONTACT_OPTED_OUT"]);
    const byPriority = await refusal(tenant.conversations.startConversation({ ...start, template: TEMPLATE, priority: Priority.MARKETING }));
    expect(byPriority.code).toBe(Code.FailedPrecondition);
    const utility = await tenant.conversations.startConversation({ ...start, template: TEMPLATE });
    // The contact's open conversation (from their STOP) is joined, and given the call's context.
    expect(utility.conversation!.source).toBe(ConversationSource.INBOUND);
    expect(utility.conversation!.context).toBe("llamada");
    expect(utility.conversation!.messageCount).toBe(2n);

    // SendMessage keeps the same rule: no marketing template, no marketing priority; a reply in the window goes.
    const send = (content: Parameters<Tenant["messaging"]["sendMessage"]>[0]["content"], priority = Priority.UNSPECIFIED) =>
      tenant.messaging.sendMessage({ accountId: account.id, to: `+${waId}`, content, priority });
    const promo = await refusal(send({ case: "template", value: { name: "promo_spring", language: TEMPLATE.language } }));
    expect(promo.findDetails(ErrorInfoSchema).map((d) => d.reason)).toEqual(["CONTACT_OPTED_OUT"]);
    const marketingText = await refusal(send({ case: "text", value: { body: "¡Oferta!" } }, Priority.MARKETING));
    expect(marketingText.findDetails(ErrorInfoSchema).map((d) => d.reason)).toEqual(["CONTACT_OPTED_OUT"]);
    expect((await send({ case: "text", value: { body: "Listo, no le enviaremos promociones." } })).message!.id).not.toBe("");
  });
});

describe("contacts", () => {
  it("when contacts are listed in small pages while others write in, then each appears once, newest first, and the filters and Get agree", async () => {
    const other = tenantClients(harness, "contacts-other");
    const otherAccount = await createAccount(other);
    const names = Array.from({ length: 7 }, () => newWaId());
    for (const waId of names) await receive(harness, tenant, account, [{ from: waId, body: "hola" }]);
    const before = (await tenant.conversations.listContacts({ pageSize: 1000 })).contacts.map((c) => c.id);
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await tenant.conversations.listContacts({ pageSize: 3, pageToken });
      seen.push(...page.contacts.map((c) => c.id));
      pageToken = page.nextPageToken;
      // Someone listed earlier writes again (last_seen moves), and a new contact appears.
      await receive(harness, tenant, account, [{ from: names[0]!, body: "otra vez" }, { from: newWaId(), body: "nuevo" }]);
    } while (pageToken !== "");
    expect(seen).toEqual(before);

    const newest = await contactOf(names[6]!);
    expect(newest.phone).toBe(`+${names[6]}`);
    expect(newest.profileName).toBe(`User ${names[6]!.slice(-4)}`);
    expect(timestampDate(newest.firstSeenTime!).getTime()).toBeLessThanOrEqual(timestampDate(newest.lastSeenTime!).getTime());
    expect((await tenant.conversations.getContact({ contactId: newest.id })).contact).toEqual(newest);
    const byName = await tenant.conversations.listContacts({ profileName: `user ${names[6]!.slice(-4)}` });
    expect(byName.contacts.map((c) => c.id)).toContain(newest.id);

    // Another tenant's contact is NotFound, like one that does not exist.
    await receive(harness, other, otherAccount, [{ from: newWaId(), body: "hola" }]);
    const foreign = (await other.conversations.listContacts({})).contacts[0]!;
    const notFound = await refusal(tenant.conversations.getContact({ contactId: foreign.id }));
    expect(notFound.code).toBe(Code.NotFound);
    expect((await refusal(tenant.conversations.getConversation({ conversationId: (await other.conversations.listConversations({})).conversations[0]!.id }))).code).toBe(Code.NotFound);
    expect((await tenant.conversations.listContacts({ phone: foreign.phone })).contacts).toEqual([]);
  });
});
