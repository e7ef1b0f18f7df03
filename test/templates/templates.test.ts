/**
 * TemplateService against the real service, real PostgreSQL and the Graph
 * API simulator (Meta's template management endpoints): create → Meta's
 * shape → status webhook → APPROVED with one `template.status` event; sync
 * reconciles changes made on Meta's side; sends are checked against the
 * approved template before anything is queued or sent.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";

import { BadRequestSchema, ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AccountService, Provider, type Account } from "../../gen/whatsapp/v1/account_pb.js";
import { TemplateStatusEventSchema } from "../../gen/whatsapp/v1/events_pb.js";
import { TemplateMessageComponent_ButtonSubType as SubType, TemplateMessageComponent_Type as ComponentType } from "../../gen/whatsapp/v1/message_pb.js";
import { MessagingService } from "../../gen/whatsapp/v1/messaging_pb.js";
import {
  TemplateCategory,
  TemplateHeader_Format,
  TemplateService,
  TemplateStatus,
} from "../../gen/whatsapp/v1/template_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CreateTemplateRequestSchema } from "../../gen/whatsapp/v1/template_pb.js";
import { tenantSchemaName } from "../../src/adapters/postgres/index.js";
import { deliver, metaEnvelope } from "../support/meta-simulator.js";
import { clientFor, uniqueTenant } from "../support/service.js";
import { eventually } from "../kit/eventually.js";
import { useServiceHarness } from "../kit/service-harness.js";

const APP_SECRET = "templates-test-app-secret";
const TOKEN = "EAAG-templates-token";

const harness = useServiceHarness({
  graphSimulator: true,
  env: { META_APP_SECRET: APP_SECRET, WORKERS: "inbox,sender", TEMPLATE_SYNC_INTERVAL_SECONDS: "0" },
});

let phoneSeq = 0;

interface Tenant {
  id: string;
  accounts: ReturnType<typeof clientFor<typeof AccountService>>;
  templates: ReturnType<typeof clientFor<typeof TemplateService>>;
  messaging: ReturnType<typeof clientFor<typeof MessagingService>>;
}

function tenant(label: string): Tenant {
  const id = uniqueTenant(label);
  const url = harness.svc.service.url;
  return { id, accounts: clientFor(AccountService, url, id), templates: clientFor(TemplateService, url, id), messaging: clientFor(MessagingService, url, id) };
}

async function metaAccount(t: Tenant): Promise<Account> {
  const phoneNumberId = `31${Date.now() % 1_000_000_000}${phoneSeq++}`;
  const { account } = await t.accounts.createAccount({
    account: { provider: Provider.META, phoneNumberId, wabaId: `9${phoneNumberId}`, displayName: "Templates", displayPhoneNumber: "+14155550100", credentials: { accessToken: TOKEN } },
  });
  return account!;
}

async function sandboxAccount(t: Tenant): Promise<Account> {
  const { account } = await t.accounts.createAccount({ account: { provider: Provider.SANDBOX, phoneNumberId: `sandbox-tpl-${phoneSeq++}`, displayName: "Sandbox" } });
  return account!;
}

function orderTemplate(accountId: string, name = `order_update_${phoneSeq++}`): MessageInitShape<typeof CreateTemplateRequestSchema> {
  return {
    template: {
      accountId,
      name,
      language: "en_US",
      category: TemplateCategory.UTILITY,
      components: {
        header: { format: TemplateHeader_Format.TEXT, text: "Order {{1}}", examples: { positional: ["#42"] } },
        body: { text: "Hi {{1}}, your order {{2}} ships today.", examples: { positional: ["Ana", "#42"] } },
        footer: { text: "Reply STOP to opt out" },
        buttons: [{ kind: { case: "url", value: { text: "Track", url: "https://example.com/t/{{1}}", example: "https://example.com/t/42" } } }],
      },
    },
  };
}

async function refusal(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (e) {
    return ConnectError.from(e);
  }
  throw new Error("expected the call to fail");
}

function violations(error: ConnectError): string[] {
  return error.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations.map((v) => v.field));
}


async function templateEvents(tenantId: string) {
  const rows = await harness.sql<{ payload: Buffer }[]>`select payload from control.outbox where tenant_id = ${tenantId} and event_type = 'template.status' order by seq`;
  return rows.map((r) => fromBinary(TemplateStatusEventSchema, r.payload));
}

async function statusWebhook(account: Account, value: Record<string, unknown>): Promise<void> {
  const payload = metaEnvelope(account.wabaId, [{ field: "message_template_status_update", value: value as never }]);
  const result = await deliver(`${harness.svc.service.url}/webhook`, payload, { appSecret: APP_SECRET });
  expect(result.status).toBe(200);
}

describe("CreateTemplate", () => {
  it("when a valid template is created, then Meta receives it in its own shape and it is stored PENDING, version 1", async () => {
    const t = tenant("tpl-create");
    const account = await metaAccount(t);
    const request = orderTemplate(account.id);
    const { template } = await t.templates.createTemplate(request);

    expect(template).toMatchObject({ status: TemplateStatus.PENDING, version: 1, approvedVersion: 0, wabaId: account.wabaId, name: request.template!.name });
    expect(template!.metaTemplateId).not.toBe("");
    const call = harness.simulator.templateCalls.find((c) => c.method === "POST" && c.body?.name === request.template!.name)!;
    expect(call.path).toBe(`/v23.0/${account.wabaId}/message_templates`);
    expect(call.authorization).toBe(`Bearer ${TOKEN}`);
    expect(call.body).toStrictEqual({
      name: request.template!.name,
      language: "en_US",
      category: "UTILITY",
      components: [
        { type: "HEADER", format: "TEXT", text: "Order {{1}}", example: { header_text: ["#42"] } },
        { type: "BODY", text: "Hi {{1}}, your order {{2}} ships today.", example: { body_text: [["Ana", "#42"]] } },
        { type: "FOOTER", text: "Reply STOP to opt out" },
        { type: "BUTTONS", buttons: [{ type: "URL", text: "Track", url: "https://example.com/t/{{1}}", example: ["https://example.com/t/42"] }] },
      ],
    });
    const [row] = await harness.sql.unsafe<{ status: string; meta_template_id: string }[]>(`select status, meta_template_id from "${tenantSchemaName(t.id)}".templates where id = $1`, [template!.id]);
    expect(row).toEqual({ status: "PENDING", meta_template_id: template!.metaTemplateId });
    expect((await t.templates.getTemplate({ templateId: template!.id })).template).toEqual(template);
  });

  it("when a template breaks WhatsApp's rules, then it is refused with a violation per field and nothing reaches Meta or the database", async () => {
    const t = tenant("tpl-invalid");
    const account = await metaAccount(t);
    const callsBefore = harness.simulator.templateCalls.length;
    const error = await refusal(
      t.templates.createTemplate({
        template: {
          accountId: account.id,
          name: "bad_template",
          language: "en_US",
          category: TemplateCategory.MARKETING,
          components: {
            body: { text: "Hi {{1}}, see {{3}} today", examples: { positional: ["Ana"] } },
            footer: { text: "Code {{1}}" },
            buttons: [
              { kind: { case: "quickReply", value: { text: "Yes" } } },
              { kind: { case: "url", value: { text: "Go", url: "https://example.com/{{1}}/x" } } },
              { kind: { case: "quickReply", value: { text: "No" } } },
            ],
          },
        },
      }),
    );
    expect(error.code).toBe(Code.InvalidArgument);
    expect(violations(error).sort()).toEqual(
      ["template.components.body.text", "template.components.buttons", "template.components.buttons[1].url.url", "template.components.footer.text"].sort(),
    );
    expect(harness.simulator.templateCalls.length).toBe(callsBefore);
    expect(await harness.sql.unsafe(`select 1 from "${tenantSchemaName(t.id)}".templates`)).toHaveLength(0);
  });

  it("when the same name and language exist, then ALREADY_EXISTS; another tenant cannot see the template (NotFound)", async () => {
    const t = tenant("tpl-dup");
    const account = await metaAccount(t);
    const request = orderTemplate(account.id);
    const { template } = await t.templates.createTemplate(request);
    expect((await refusal(t.templates.createTemplate(request))).code).toBe(Code.AlreadyExists);
    const other = tenant("tpl-other");
    await metaAccount(other);
    expect((await refusal(other.templates.getTemplate({ templateId: template!.id }))).code).toBe(Code.NotFound);
    expect((await other.templates.listTemplates({})).templates).toEqual([]);
  });
});

describe("status webhooks", () => {
  it("when Meta approves the template, then it is APPROVED with its approved version and exactly one template.status event is written; a repeat changes nothing", async () => {
    const t = tenant("tpl-approve");
    const account = await metaAccount(t);
    const { template } = await t.templates.createTemplate(orderTemplate(account.id));
    const value = {
      event: "APPROVED",
      message_template_id: Number(template!.metaTemplateId),
      message_template_name: template!.name,
      message_template_language: "en_US",
      reason: "NONE",
      message_template_category: "UTILITY",
    };
    await statusWebhook(account, value);
    const approved = await eventually("the template to be approved", async () => {
      const { template: now } = await t.templates.getTemplate({ templateId: template!.id });
      return now!.status === TemplateStatus.APPROVED ? now : undefined;
    });
    expect(approved).toMatchObject({ version: 1, approvedVersion: 1 });
    await statusWebhook(account, value);
    await statusWebhook(account, { ...value, event: "FLAGGED" });
    await eventually("the inbox to be drained", async () => {
      const [row] = await harness.sql<{ n: number }[]>`select count(*)::int as n from control.webhook_inbox where status = 'pending'`;
      return row!.n === 0 ? true : undefined;
    });
    const events = await templateEvents(t.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      tenantId: t.id,
      accountId: account.id,
      wabaId: account.wabaId,
      templateId: template!.id,
      metaTemplateId: template!.metaTemplateId,
      name: template!.name,
      language: "en_US",
      status: TemplateStatus.APPROVED,
      previousStatus: TemplateStatus.PENDING,
      providerEvent: "APPROVED",
      version: 1,
    });
  });

  it("when Meta rejects it, then it is REJECTED with Meta's reason and sends with it are refused before any Graph call", async () => {
    const t = tenant("tpl-reject");
    const account = await metaAccount(t);
    const { template } = await t.templates.createTemplate(orderTemplate(account.id));
    await statusWebhook(account, {
      event: "REJECTED",
      message_template_id: Number(template!.metaTemplateId),
      message_template_name: template!.name,
      message_template_language: "en_US",
      reason: "INVALID_FORMAT",
      rejection_info: { reason: "INVALID_FORMAT", recommendation: "Fix the variables" },
    });
    const rejected = await eventually("the template to be rejected", async () => {
      const { template: now } = await t.templates.getTemplate({ templateId: template!.id });
      return now!.status === TemplateStatus.REJECTED ? now : undefined;
    });
    expect(rejected!.rejectedReason).toBe("INVALID_FORMAT: Fix the variables");
    const sendsBefore = harness.simulator.requests.length;
    const error = await refusal(t.messaging.sendMessage({ accountId: account.id, to: "+14155552671", content: { case: "template", value: { name: template!.name, language: "en_US" } } }));
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.findDetails(ErrorInfoSchema)[0]?.reason).toBe("TEMPLATE_NOT_APPROVED");
    expect(harness.simulator.requests.length).toBe(sendsBefore);
  });
});

describe("SyncTemplates", () => {
  it("when templates changed on Meta's side, then sync creates, updates (new version), marks deleted and reports the counts, reading every page", async () => {
    const t = tenant("tpl-sync");
    const account = await metaAccount(t);
    const { template: kept } = await t.templates.createTemplate(orderTemplate(account.id, "kept_same"));
    const { template: edited } = await t.templates.createTemplate(orderTemplate(account.id, "edited_at_meta"));
    const { template: gone } = await t.templates.createTemplate(orderTemplate(account.id, "gone_at_meta"));
    const remote = (id: string) => harness.simulator.templates.find((s) => s.id === id)!;
    // Meta's side: one approved and edited, one deleted, one created in Meta's UI.
    remote(edited!.metaTemplateId).status = "APPROVED";
    remote(edited!.metaTemplateId).components = [{ type: "BODY", text: "Hello {{1}}, all set.", example: { body_text: [["Ana"]] } }];
    harness.simulator.templates.splice(harness.simulator.templates.indexOf(remote(gone!.metaTemplateId)), 1);
    harness.simulator.templates.push({ id: "777000111", wabaId: account.wabaId, name: "made_in_meta", language: "es", category: "MARKETING", status: "APPROVED", components: [{ type: "BODY", text: "Hola" }] });
    harness.simulator.templatePageSize = 2;
    try {
      const result = await t.templates.syncTemplates({ accountId: account.id });
      expect(result).toMatchObject({ createdCount: 1, updatedCount: 1, deletedCount: 1, unchangedCount: 1 });
      const pages = harness.simulator.templateCalls.filter((c) => c.method === "GET" && c.path.startsWith(`/v23.0/${account.wabaId}/message_templates`));
      expect(pages.length).toBeGreaterThanOrEqual(2);
    } finally {
      harness.simulator.templatePageSize = 25;
    }
    const { template: nowEdited } = await t.templates.getTemplate({ templateId: edited!.id });
    expect(nowEdited).toMatchObject({ status: TemplateStatus.APPROVED, version: 2, approvedVersion: 2 });
    expect(nowEdited!.components!.body!.text).toBe("Hello {{1}}, all set.");
    expect((await t.templates.getTemplate({ templateId: kept!.id })).template!.version).toBe(1);
    expect((await refusal(t.templates.getTemplate({ templateId: gone!.id }))).code).toBe(Code.NotFound);
    const { templates } = await t.templates.listTemplates({ accountId: account.id, name: "made_in_meta" });
    expect(templates).toHaveLength(1);
    expect(templates[0]).toMatchObject({ status: TemplateStatus.APPROVED, category: TemplateCategory.MARKETING, metaTemplateId: "777000111", language: "es" });
    const versions = await harness.sql.unsafe<{ version: number }[]>(`select version from "${tenantSchemaName(t.id)}".template_versions where template_id = $1 order by version`, [edited!.id]);
    expect(versions.map((v) => v.version)).toEqual([1, 2]);
    const events = (await templateEvents(t.id)).map((e) => [e.name, e.status, e.providerEvent]);
    expect(events.sort()).toEqual(
      [
        ["edited_at_meta", TemplateStatus.APPROVED, "SYNC"],
        ["gone_at_meta", TemplateStatus.DELETED, "SYNC"],
      ].sort(),
    );
  });
});

describe("sending with templates", () => {
  it("when the parameters do not fill the approved template, then the send is refused by field before any Graph call; the right count is queued and sent", async () => {
    const t = tenant("tpl-send");
    const account = await metaAccount(t);
    const { template } = await t.templates.createTemplate(orderTemplate(account.id));
    await statusWebhook(account, { event: "APPROVED", message_template_id: Number(template!.metaTemplateId), message_template_name: template!.name, message_template_language: "en_US" });
    await eventually("the template to be approved", async () => ((await t.templates.getTemplate({ templateId: template!.id })).template!.status === TemplateStatus.APPROVED ? true : undefined));

    const text = (value: string) => ({ value: { case: "text" as const, value } });
    const sendsBefore = harness.simulator.requests.length;
    const wrong = await refusal(
      t.messaging.sendMessage({
        accountId: account.id,
        to: "+14155552671",
        content: { case: "template", value: { name: template!.name, language: "en_US", components: [{ type: ComponentType.BODY, parameters: [text("Ana")] }] } },
      }),
    );
    expect(wrong.code).toBe(Code.InvalidArgument);
    expect(violations(wrong).sort()).toEqual(["template.components", "template.components", "template.components[0].parameters"].sort());
    const missing = await refusal(
      t.messaging.sendMessage({ accountId: account.id, to: "+14155552671", content: { case: "template", value: { name: "no_such_template", language: "en_US" } } }),
    );
    expect(missing.findDetails(ErrorInfoSchema)[0]?.reason).toBe("TEMPLATE_NOT_FOUND");
    expect(await harness.sql.unsafe(`select 1 from "${tenantSchemaName(t.id)}".messages`)).toHaveLength(0);
    expect(harness.simulator.requests.length).toBe(sendsBefore);

    const { message } = await t.messaging.sendMessage({
      accountId: account.id,
      to: "+14155552671",
      content: {
        case: "template",
        value: {
          name: template!.name,
          language: "en_US",
          components: [
            { type: ComponentType.HEADER, parameters: [text("#42")] },
            { type: ComponentType.BODY, parameters: [text("Ana"), text("#42")] },
            { type: ComponentType.BUTTON, subType: SubType.URL, index: 0, parameters: [text("42")] },
          ],
        },
      },
    });
    await eventually("Meta to accept the message", async () => (harness.simulator.acceptedFor(message!.id).length === 1 ? true : undefined));
  });
});

describe("RenderTemplate", () => {
  it("when rendered with some parameters, then the text is filled and the missing placeholders are named", async () => {
    const t = tenant("tpl-render");
    const account = await metaAccount(t);
    const { template } = await t.templates.createTemplate(orderTemplate(account.id));
    const rendered = await t.templates.renderTemplate({
      templateId: template!.id,
      components: [
        { type: ComponentType.HEADER, parameters: [{ value: { case: "text", value: "#7" } }] },
        { type: ComponentType.BODY, parameters: [{ value: { case: "text", value: "Ana" } }] },
      ],
    });
    expect(rendered).toMatchObject({
      header: "Order #7",
      body: "Hi Ana, your order {{2}} ships today.",
      footer: "Reply STOP to opt out",
      buttons: ["Track: https://example.com/t/{{1}}"],
      text: "Order #7\n\nHi Ana, your order {{2}} ships today.\n\nReply STOP to opt out",
      missingParameters: ["2", "button[0]"],
    });
  });
});

describe("sandbox accounts", () => {
  it("when a template is created for a sandbox account, then the sandbox approves it through the webhook path and it can be sent; hello_world is built in", async () => {
    const t = tenant("tpl-sandbox");
    const account = await sandboxAccount(t);
    const { template } = await t.templates.createTemplate({
      template: { accountId: account.id, name: "welcome", language: "es", category: TemplateCategory.UTILITY, components: { body: { text: "Bienvenido a la tienda" } } },
    });
    await eventually("the template to be approved", async () => ((await t.templates.getTemplate({ templateId: template!.id })).template!.status === TemplateStatus.APPROVED ? true : undefined));
    // PENDING → APPROVED, or DRAFT → APPROVED when the approval overtook the create's answer.
    expect((await templateEvents(t.id)).map((e) => e.status)).toEqual([TemplateStatus.APPROVED]);
    const sent = await t.messaging.sendMessage({ accountId: account.id, to: "+14155552671", content: { case: "template", value: { name: "welcome", language: "es" } } });
    expect(sent.message!.id).not.toBe("");
    const hello = await t.messaging.sendMessage({ accountId: account.id, to: "+14155552671", content: { case: "template", value: { name: "hello_world", language: "en_US" } } });
    expect(hello.message!.id).not.toBe("");
  });
});
