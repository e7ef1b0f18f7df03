/**
 * SendMessage against the real service and PostgreSQL: what is stored is
 * exactly the Graph API object WhatsApp expects, queued with its send job in
 * the same transaction; WhatsApp's limits, the 24-hour window and
 * idempotency keys are enforced before anything is queued.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { BadRequestSchema, ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import type { Account } from "../../gen/whatsapp/v1/account_pb.js";
import {
  MediaKind,
  MessageStatus,
  MessageType,
  Priority,
  TemplateMessageComponent_ButtonSubType as SubType,
  TemplateMessageComponent_Type as ComponentType,
} from "../../gen/whatsapp/v1/message_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { SendMessageRequestSchema } from "../../gen/whatsapp/v1/messaging_pb.js";
import {
  contactWrites,
  createAccount,
  messageRow,
  newRecipient,
  outboxEventTypes,
  sendJobsFor,
  startMessagingHarness,
  tenantClients,
  type MessagingHarness,
  type Tenant,
} from "./support.js";
import { bodyWith, seedApprovedTemplate } from "../support/templates.js";
import { refusal } from "../support/refusal.js";

type SendInit = Omit<MessageInitShape<typeof SendMessageRequestSchema>, "$typeName">;

let harness: MessagingHarness;
let tenant: Tenant;
let account: Account;
/** A contact who wrote a minute ago: free-form messages may go to them. */
const writer = newRecipient();
let inbound: { id: string; wamid: string };

beforeAll(async () => {
  harness = await startMessagingHarness();
  tenant = tenantClients(harness, "send");
  account = await createAccount(tenant);
  inbound = await contactWrites(harness, tenant, account, writer.slice(1));
  // Template sends are checked against the approved template: the ones these tests send.
  await seedApprovedTemplate(harness.svc.database.url, tenant.id, account, { name: "hello_world", language: "en_US" });
  await seedApprovedTemplate(harness.svc.database.url, tenant.id, account, {
    name: "order_update",
    language: "es_MX",
    components: {
      header: { format: "DOCUMENT", text: "", examples: { positional: [], named: {} }, exampleMedia: "https://example.com/sample.pdf" },
      body: bodyWith(2),
      buttons: [{ kind: "url", text: "Track", url: "https://example.com/o/{{1}}", example: "https://example.com/o/1" }],
    },
  });
});

afterAll(async () => {
  await harness?.cleanup();
});

function violationsOf(error: unknown): string[] {
  return ConnectError.from(error).findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations.map((v) => v.field));
}

describe("SendMessage: every content type is stored as WhatsApp's Graph API object, with its send job", () => {
  const cases: { name: string; request: () => Omit<SendInit, "accountId" | "to">; type: MessageType; graph: () => unknown }[] = [
    {
      name: "text",
      request: () => ({ content: { case: "text", value: { body: "Hello https://example.com", previewUrl: true } } }),
      type: MessageType.TEXT,
      graph: () => ({ type: "text", text: { body: "Hello https://example.com", preview_url: true } }),
    },
    {
      name: "image by link with caption",
      request: () => ({ content: { case: "media", value: { kind: MediaKind.IMAGE, source: { case: "link", value: "https://example.com/a.jpg" }, caption: "Menu" } } }),
      type: MessageType.IMAGE,
      graph: () => ({ type: "image", image: { link: "https://example.com/a.jpg", caption: "Menu" } }),
    },
    {
      name: "audio by media id",
      request: () => ({ content: { case: "media", value: { kind: MediaKind.AUDIO, source: { case: "mediaId", value: "1013859600285441" } } } }),
      type: MessageType.AUDIO,
      graph: () => ({ type: "audio", audio: { id: "1013859600285441" } }),
    },
    {
      name: "video by media id with caption",
      request: () => ({ content: { case: "media", value: { kind: MediaKind.VIDEO, source: { case: "mediaId", value: "vid-1" }, caption: "Demo" } } }),
      type: MessageType.VIDEO,
      graph: () => ({ type: "video", video: { id: "vid-1", caption: "Demo" } }),
    },
    {
      name: "document by link with file name",
      request: () => ({
        content: { case: "media", value: { kind: MediaKind.DOCUMENT, source: { case: "link", value: "https://example.com/i.pdf" }, caption: "Invoice", filename: "invoice.pdf" } },
      }),
      type: MessageType.DOCUMENT,
      graph: () => ({ type: "document", document: { link: "https://example.com/i.pdf", caption: "Invoice", filename: "invoice.pdf" } }),
    },
    {
      name: "sticker",
      request: () => ({ content: { case: "media", value: { kind: MediaKind.STICKER, source: { case: "mediaId", value: "st-9" } } } }),
      type: MessageType.STICKER,
      graph: () => ({ type: "sticker", sticker: { id: "st-9" } }),
    },
    {
      name: "location",
      request: () => ({ content: { case: "location", value: { latitude: -0.1807, longitude: -78.4678, name: "Quito", address: "Av. Amazonas" } } }),
      type: MessageType.LOCATION,
      graph: () => ({ type: "location", location: { latitude: -0.1807, longitude: -78.4678, name: "Quito", address: "Av. Amazonas" } }),
    },
    {
      name: "contacts",
      request: () => ({
        content: {
          case: "contacts",
          value: { contacts: [{ name: { formattedName: "Ana Pérez", lastName: "Pérez" }, phones: [{ phone: "+593 98 765 4321", waId: "593987654321", type: "CELL" }] }] },
        },
      }),
      type: MessageType.CONTACTS,
      graph: () => ({
        type: "contacts",
        contacts: [{ name: { formatted_name: "Ana Pérez", last_name: "Pérez" }, phones: [{ phone: "+593 98 765 4321", type: "CELL", wa_id: "593987654321" }] }],
      }),
    },
    {
      name: "interactive reply buttons",
      request: () => ({
        content: {
          case: "interactive",
          value: {
            header: { content: { case: "text", value: "Your order" } },
            body: "Confirm the delivery?",
            footer: "Acme",
            action: { case: "buttons", value: { buttons: [{ id: "yes", title: "Yes" }, { id: "no", title: "No" }] } },
          },
        },
      }),
      type: MessageType.INTERACTIVE,
      graph: () => ({
        type: "interactive",
        interactive: {
          type: "button",
          header: { type: "text", text: "Your order" },
          body: { text: "Confirm the delivery?" },
          footer: { text: "Acme" },
          action: { buttons: [{ type: "reply", reply: { id: "yes", title: "Yes" } }, { type: "reply", reply: { id: "no", title: "No" } }] },
        },
      }),
    },
    {
      name: "interactive list",
      request: () => ({
        content: {
          case: "interactive",
          value: {
            body: "Pick a time",
            action: {
              case: "list",
              value: {
                button: "Times",
                sections: [
                  { title: "Morning", rows: [{ id: "m1", title: "09:00", description: "Early" }] },
                  { title: "Evening", rows: [{ id: "e1", title: "18:00" }] },
                ],
              },
            },
          },
        },
      }),
      type: MessageType.INTERACTIVE,
      graph: () => ({
        type: "interactive",
        interactive: {
          type: "list",
          body: { text: "Pick a time" },
          action: {
            button: "Times",
            sections: [
              { title: "Morning", rows: [{ id: "m1", title: "09:00", description: "Early" }] },
              { title: "Evening", rows: [{ id: "e1", title: "18:00" }] },
            ],
          },
        },
      }),
    },
    {
      name: "interactive cta_url",
      request: () => ({
        content: {
          case: "interactive",
          value: {
            header: { content: { case: "image", value: { source: { case: "mediaId", value: "img-7" } } } },
            body: "Track your parcel",
            action: { case: "ctaUrl", value: { displayText: "Track", url: "https://example.com/t/42" } },
          },
        },
      }),
      type: MessageType.INTERACTIVE,
      graph: () => ({
        type: "interactive",
        interactive: {
          type: "cta_url",
          header: { type: "image", image: { id: "img-7" } },
          body: { text: "Track your parcel" },
          action: { name: "cta_url", parameters: { display_text: "Track", url: "https://example.com/t/42" } },
        },
      }),
    },
    {
      name: "reaction to the contact's message (named by our id)",
      request: () => ({ content: { case: "reaction", value: { messageId: inbound.id, emoji: "❤️" } } }),
      type: MessageType.REACTION,
      graph: () => ({ type: "reaction", reaction: { message_id: inbound.wamid, emoji: "❤️" } }),
    },
    {
      name: "template with header, body and button parameters",
      request: () => ({
        content: {
          case: "template",
          value: {
            name: "order_update",
            language: "es_MX",
            components: [
              { type: ComponentType.HEADER, parameters: [{ value: { case: "document", value: { source: { case: "link", value: "https://example.com/r.pdf" } } } }] },
              {
                type: ComponentType.BODY,
                parameters: [
                  { value: { case: "text", value: "Ana" } },
                  { value: { case: "currency", value: { fallbackValue: "$10.50", code: "USD", amount1000: 10500n } } },
                ],
              },
              { type: ComponentType.BUTTON, subType: SubType.URL, index: 0, parameters: [{ value: { case: "text", value: "order%2F42" } }] },
            ],
          },
        },
      }),
      type: MessageType.TEMPLATE,
      graph: () => ({
        type: "template",
        template: {
          name: "order_update",
          language: { code: "es_MX" },
          components: [
            { type: "header", parameters: [{ type: "document", document: { link: "https://example.com/r.pdf" } }] },
            {
              type: "body",
              parameters: [
                { type: "text", text: "Ana" },
                { type: "currency", currency: { fallback_value: "$10.50", code: "USD", amount_1000: 10500 } },
              ],
            },
            { type: "button", sub_type: "url", index: "0", parameters: [{ type: "text", text: "order%2F42" }] },
          ],
        },
      }),
    },
  ];

  for (const { name, request, type, graph } of cases) {
    it(`when a ${name} is sent, then the row holds exactly the Graph API object and one send_message job names it`, async () => {
      const { message, duplicate } = await tenant.messaging.sendMessage({ accountId: account.id, to: writer, ...request() });
      expect(duplicate).toBe(false);
      expect(message).toMatchObject({ status: MessageStatus.QUEUED, type, to: writer, from: account.displayPhoneNumber });

      const row = await messageRow(harness, tenant, message!.id);
      expect(row).toMatchObject({ direction: "outbound", status: "queued", recipient: writer.slice(1), priority: "transactional" });
      expect(row!.content).toStrictEqual(graph());

      const jobs = await sendJobsFor(harness, message!.id);
      expect(jobs).toHaveLength(1);
      expect(jobs[0]).toMatchObject({ tenant_id: tenant.id, kind: "send_message", payload: { messageId: message!.id, accountId: account.id }, priority: 20 });
    });
  }

  it("when a message replies to the contact's message by our id, then context.message_id is its wamid", async () => {
    const { message } = await tenant.messaging.sendMessage({
      accountId: account.id,
      to: writer,
      replyToMessageId: inbound.id,
      content: { case: "text", value: { body: "Sure" } },
    });
    expect((await messageRow(harness, tenant, message!.id))!.content).toStrictEqual({ type: "text", text: { body: "Sure" }, context: { message_id: inbound.wamid } });
    expect(message!.replyToMessageId).toBe(inbound.id);
  });

  it("when priority and metadata are given, then the job's rank follows the priority and the metadata comes back unchanged", async () => {
    const { message } = await tenant.messaging.sendMessage({
      accountId: account.id,
      to: writer,
      priority: Priority.OTP,
      metadata: { campaign_id: "onboarding-2025", "x-trace": "abc" },
      content: { case: "text", value: { body: "Your code is 123456" } },
    });
    expect(message).toMatchObject({ priority: Priority.OTP, metadata: { campaign_id: "onboarding-2025", "x-trace": "abc" } });
    expect((await sendJobsFor(harness, message!.id))[0]!.priority).toBe(30);
    expect((await messageRow(harness, tenant, message!.id))!.metadata).toStrictEqual({ campaign_id: "onboarding-2025", "x-trace": "abc" });
  });
});

describe("SendMessage: WhatsApp's limits are checked before queuing", () => {
  const send = (request: Omit<SendInit, "accountId">) => tenant.messaging.sendMessage({ accountId: account.id, ...request });

  it("when buttons repeat a title, a list has 11 rows and a template body parameter has a new line, then each field path is reported and nothing is stored", async () => {
    const before = await harness.sql.unsafe<{ n: number }[]>(`select count(*)::int as n from "${tenant.schema}".messages`);
    const duplicateTitles = await refusal(
      send({
        to: writer,
        content: {
          case: "interactive",
          value: { body: "Pick", action: { case: "buttons", value: { buttons: [{ id: "a", title: "Yes" }, { id: "b", title: "YES" }] } } },
        },
      }),
    );
    expect(duplicateTitles.code).toBe(Code.InvalidArgument);
    expect(violationsOf(duplicateTitles)).toEqual(["interactive.buttons.buttons[1].title"]);

    const rows = (n: number, from: number) => Array.from({ length: n }, (_, i) => ({ id: `r${from + i}`, title: `Row ${from + i}` }));
    const elevenRows = await refusal(
      send({
        to: writer,
        content: {
          case: "interactive",
          value: { body: "Pick", action: { case: "list", value: { button: "Open", sections: [{ title: "A", rows: rows(6, 0) }, { title: "B", rows: rows(5, 6) }] } } },
        },
      }),
    );
    expect(violationsOf(elevenRows)).toEqual(["interactive.list.sections"]);

    const newline = await refusal(
      send({
        to: writer,
        content: { case: "template", value: { name: "hello", language: "en", components: [{ type: ComponentType.BODY, parameters: [{ value: { case: "text", value: "a\nb" } }] }] } },
      }),
    );
    expect(violationsOf(newline)).toEqual(["template.components[0].parameters[0].text"]);
    const after = await harness.sql.unsafe<{ n: number }[]>(`select count(*)::int as n from "${tenant.schema}".messages`);
    expect(after[0]!.n).toBe(before[0]!.n);
  });

  it("when the number cannot exist and two buttons share an id, then both violations come back together", async () => {
    const error = await refusal(
      send({
        to: "+12345678",
        content: { case: "interactive", value: { body: "Pick", action: { case: "buttons", value: { buttons: [{ id: "a", title: "One" }, { id: "a", title: "Two" }] } } } },
      }),
    );
    expect(error.code).toBe(Code.InvalidArgument);
    expect(violationsOf(error).sort()).toEqual(["interactive.buttons.buttons[1].id", "to"]);
  });

  it("when the account is not the tenant's, then NotFound", async () => {
    const other = tenantClients(harness, "other");
    const error = await refusal(other.messaging.sendMessage({ accountId: account.id, to: writer, content: { case: "text", value: { body: "hi" } } }));
    expect(error.code).toBe(Code.NotFound);
  });
});

describe("SendMessage: the 24-hour customer-service window", () => {
  it("when the contact never wrote, then free-form text is refused with OUTSIDE_SERVICE_WINDOW and nothing is stored; a template is queued and opens a manual conversation", async () => {
    const stranger = newRecipient();
    const error = await refusal(tenant.messaging.sendMessage({ accountId: account.id, to: stranger, content: { case: "text", value: { body: "Hi!" } } }));
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.findDetails(ErrorInfoSchema)[0]?.reason).toBe("OUTSIDE_SERVICE_WINDOW");
    expect(error.rawMessage).toMatch(/use a template/);
    const contacts = await harness.sql.unsafe(`select 1 from "${tenant.schema}".contacts where wa_id = $1`, [stranger.slice(1)]);
    expect(contacts).toHaveLength(0);

    const eventsBefore = (await outboxEventTypes(harness, tenant)).length;
    const { message } = await tenant.messaging.sendMessage({
      accountId: account.id,
      to: stranger,
      content: { case: "template", value: { name: "hello_world", language: "en_US" } },
    });
    expect(message!.status).toBe(MessageStatus.QUEUED);
    const row = await messageRow(harness, tenant, message!.id);
    expect(row!.content).toStrictEqual({ type: "template", template: { name: "hello_world", language: { code: "en_US" } } });
    const [conversation] = await harness.sql.unsafe<{ source: string; status: string; outbound_message_count: number }[]>(
      `select source, status, outbound_message_count from "${tenant.schema}".conversations where id = $1`,
      [row!.conversation_id],
    );
    expect(conversation).toEqual({ source: "manual", status: "active", outbound_message_count: 1 });
    expect((await outboxEventTypes(harness, tenant)).slice(eventsBefore)).toEqual(["contact.created", "conversation.opened"]);
  });

  it("when the contact last wrote more than 24 hours ago, then free-form is refused again", async () => {
    const lapsed = newRecipient();
    await contactWrites(harness, tenant, account, lapsed.slice(1));
    await harness.sql.unsafe(
      `update "${tenant.schema}".conversations set last_inbound_time = now() - interval '24 hours 1 minute'
        where contact_id = (select id from "${tenant.schema}".contacts where wa_id = $1)`,
      [lapsed.slice(1)],
    );
    const error = await refusal(tenant.messaging.sendMessage({ accountId: account.id, to: lapsed, content: { case: "text", value: { body: "Still there?" } } }));
    expect(error.findDetails(ErrorInfoSchema)[0]?.reason).toBe("OUTSIDE_SERVICE_WINDOW");
  });
});

describe("SendMessage: idempotency keys", () => {
  it("when 20 identical calls with one key arrive at once, then exactly one message and one job exist and every call returns it", async () => {
    const request: SendInit = { accountId: account.id, to: writer, idempotencyKey: `order-42-${Date.now()}`, content: { case: "text", value: { body: "Shipped" } } };
    const responses = await Promise.all(Array.from({ length: 20 }, () => tenant.messaging.sendMessage(request)));
    const ids = new Set(responses.map((r) => r.message!.id));
    expect(ids.size).toBe(1);
    expect(responses.filter((r) => !r.duplicate)).toHaveLength(1);
    const [id] = [...ids];
    const rows = await harness.sql.unsafe(`select id from "${tenant.schema}".messages where idempotency_key = $1`, [request.idempotencyKey!]);
    expect(rows).toHaveLength(1);
    expect(await sendJobsFor(harness, id!)).toHaveLength(1);
  });

  it("when the key's 24 hours have passed, then the same key sends a new message", async () => {
    const key = `reminder-${Date.now()}`;
    const first = await tenant.messaging.sendMessage({ accountId: account.id, to: writer, idempotencyKey: key, content: { case: "text", value: { body: "Reminder" } } });
    await harness.sql.unsafe(`update "${tenant.schema}".send_idempotency_keys set expire_time = now() - interval '1 second' where key = $1`, [key]);
    const second = await tenant.messaging.sendMessage({ accountId: account.id, to: writer, idempotencyKey: key, content: { case: "text", value: { body: "Reminder" } } });
    expect(second.duplicate).toBe(false);
    expect(second.message!.id).not.toBe(first.message!.id);
    const third = await tenant.messaging.sendMessage({ accountId: account.id, to: writer, idempotencyKey: key, content: { case: "text", value: { body: "Reminder" } } });
    expect(third).toMatchObject({ duplicate: true, message: { id: second.message!.id } });
  });
});

describe("SendMessage: the message and its job commit together", () => {
  it("when the job insert fails, then the message, the contact, the conversation and the events are rolled back", async () => {
    const doomed = await createAccount(tenant, "+14155552672");
    await seedApprovedTemplate(harness.svc.database.url, tenant.id, doomed, { name: "hello_world", language: "en_US" });
    // A kill point inside the transaction: the job insert for this account raises.
    await harness.sql.unsafe(`
      create or replace function control.fail_job_insert() returns trigger language plpgsql as $$
      begin
        if new.payload->>'accountId' = '${doomed.id}' then raise exception 'kill point: job insert'; end if;
        return new;
      end $$;
      create trigger fail_job_insert before insert on control.jobs for each row execute function control.fail_job_insert();
    `);
    try {
      const recipient = newRecipient();
      const eventsBefore = await outboxEventTypes(harness, tenant);
      const error = await refusal(
        tenant.messaging.sendMessage({ accountId: doomed.id, to: recipient, content: { case: "template", value: { name: "hello_world", language: "en_US" } } }),
      );
      expect(error.code).toBe(Code.Internal);
      expect(error.rawMessage).not.toMatch(/kill point/);
      expect(await harness.sql.unsafe(`select 1 from "${tenant.schema}".messages where account_id = $1`, [doomed.id])).toHaveLength(0);
      expect(await harness.sql.unsafe(`select 1 from "${tenant.schema}".conversations where account_id = $1`, [doomed.id])).toHaveLength(0);
      expect(await harness.sql.unsafe(`select 1 from "${tenant.schema}".contacts where wa_id = $1`, [recipient.slice(1)])).toHaveLength(0);
      expect(await outboxEventTypes(harness, tenant)).toEqual(eventsBefore);
    } finally {
      await harness.sql.unsafe(`drop trigger fail_job_insert on control.jobs; drop function control.fail_job_insert();`);
    }
  });
});

