/**
 * UpdateTemplate against the real service, PostgreSQL and the Graph API
 * simulator: an accepted edit is a new version submitted to Meta in its
 * edit shape (`POST /{template_id}`, category and components in separate
 * calls); the approved version stays what sends must fill until Meta
 * approves the edit; invalid edits, masks and validate_only.
 */
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";

import type { Account } from "../../gen/whatsapp/v1/account_pb.js";
import { TemplateMessageComponent_ButtonSubType as SubType, TemplateMessageComponent_Type as ComponentType } from "../../gen/whatsapp/v1/message_pb.js";
import { TemplateCategory, TemplateStatus, type Template } from "../../gen/whatsapp/v1/template_pb.js";
import {
  APP_SECRET,
  approve,
  orderTemplate,
  providerEvent,
  reason,
  refusal,
  sandboxAccount,
  metaAccount,
  templateEvents,
  templateRows,
  tenant,
  TOKEN,
  versionRows,
  violations,
  type Tenant,
} from "./harness.js";
import { eventually } from "../kit/eventually.js";
import { useServiceHarness } from "../kit/service-harness.js";

const harness = useServiceHarness({
  graphSimulator: true,
  env: { META_APP_SECRET: APP_SECRET, WORKERS: "inbox", TEMPLATE_SYNC_INTERVAL_SECONDS: "0" },
});

const url = () => harness.svc.service.url;
const text = (value: string) => ({ value: { case: "text" as const, value } });

/** The new body of the edits below: one placeholder instead of two, no header, no button. */
const EDITED = { body: { text: "Hello {{1}}, your order is ready.", examples: { positional: ["Ana"] } } };

async function approvedTemplate(t: Tenant, account: Account): Promise<Template> {
  const { template } = await t.templates.createTemplate(orderTemplate(account.id));
  return approve(url(), t, account, template!);
}

function sendV1(t: Tenant, account: Account, name: string) {
  return t.messaging.sendMessage({
    accountId: account.id,
    to: "+14155552671",
    content: {
      case: "template",
      value: {
        name,
        language: "en_US",
        components: [
          { type: ComponentType.HEADER, parameters: [text("#42")] },
          { type: ComponentType.BODY, parameters: [text("Ana"), text("#42")] },
          { type: ComponentType.BUTTON, subType: SubType.URL, index: 0, parameters: [text("42")] },
        ],
      },
    },
  });
}

function sendV2(t: Tenant, account: Account, name: string) {
  return t.messaging.sendMessage({
    accountId: account.id,
    to: "+14155552671",
    content: { case: "template", value: { name, language: "en_US", components: [{ type: ComponentType.BODY, parameters: [text("Ana")] }] } },
  });
}

function editCalls(metaTemplateId: string) {
  return harness.simulator.templateCalls.filter((c) => c.method === "POST" && c.path === `/v23.0/${metaTemplateId}`);
}

describe("UpdateTemplate of an APPROVED template", () => {
  it("when the components are edited, then version 2 is stored and sent to Meta in its edit shape; it is PENDING, sends still fill version 1 until Meta approves version 2", async () => {
    const t = tenant(url(), "tpl-edit");
    const account = await metaAccount(t);
    const v1 = await approvedTemplate(t, account);

    const { template: edited } = await t.templates.updateTemplate({ template: { id: v1.id, components: EDITED }, updateMask: { paths: ["components"] } });

    expect(edited).toMatchObject({ id: v1.id, status: TemplateStatus.PENDING, version: 2, approvedVersion: 1, metaTemplateId: v1.metaTemplateId, category: TemplateCategory.UTILITY });
    expect(edited!.components!.body!.text).toBe(EDITED.body.text);
    expect(edited!.components!.header).toBeUndefined();
    const calls = editCalls(v1.metaTemplateId);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.authorization).toBe(`Bearer ${TOKEN}`);
    // Meta's edit of an approved template: the components, replaced whole — no category (it cannot change while APPROVED).
    expect(calls[0]!.body).toStrictEqual({ components: [{ type: "BODY", text: "Hello {{1}}, your order is ready.", example: { body_text: [["Ana"]] } }] });
    expect((await versionRows(harness.sql, t.id, v1.id)).map((v) => [v.version, v.status, v.components.body.text])).toEqual([
      [1, "APPROVED", "Hi {{1}}, your order {{2}} ships today."],
      [2, "PENDING", EDITED.body.text],
    ]);
    expect((await t.templates.getTemplate({ templateId: v1.id })).template).toEqual(edited);

    // Under review: sends still fill the approved version 1 (header, two body parameters, URL suffix).
    expect((await sendV1(t, account, v1.name)).message!.id).not.toBe("");
    const early = await refusal(sendV2(t, account, v1.name));
    expect(early.code).toBe(Code.InvalidArgument);
    expect(violations(early)).toContain("template.components[0].parameters");

    // Meta approves the edit: version 2 is what sends fill now, and one template.status says so.
    const approved = await approve(url(), t, account, edited!);
    expect(approved).toMatchObject({ version: 2, approvedVersion: 2 });
    expect((await sendV2(t, account, v1.name)).message!.id).not.toBe("");
    expect((await refusal(sendV1(t, account, v1.name))).code).toBe(Code.InvalidArgument);
    const events = (await templateEvents(harness.sql, t.id)).map((e) => [e.status, e.previousStatus, e.version]);
    expect(events).toEqual([
      [TemplateStatus.APPROVED, TemplateStatus.PENDING, 1],
      [TemplateStatus.APPROVED, TemplateStatus.PENDING, 2],
    ]);
  });

  it("when the edit changes nothing, then nothing is sent to Meta and no version is added", async () => {
    const t = tenant(url(), "tpl-edit-same");
    const account = await metaAccount(t);
    const v1 = await approvedTemplate(t, account);
    const { template } = await t.templates.updateTemplate({ template: { id: v1.id, components: orderTemplate(account.id).template!.components }, updateMask: { paths: ["components"] } });
    expect(template).toMatchObject({ version: 1, approvedVersion: 1, status: TemplateStatus.APPROVED });
    expect(editCalls(v1.metaTemplateId)).toHaveLength(0);
    expect(await versionRows(harness.sql, t.id, v1.id)).toHaveLength(1);
  });
});

describe("UpdateTemplate refusals", () => {
  it("when an edit breaks WhatsApp's rules, then it is refused with field violations, nothing reaches Meta and nothing is stored", async () => {
    const t = tenant(url(), "tpl-edit-bad");
    const account = await metaAccount(t);
    const v1 = await approvedTemplate(t, account);
    const callsBefore = harness.simulator.templateCalls.length;

    const bad = await refusal(
      t.templates.updateTemplate({
        template: {
          id: v1.id,
          components: { body: { text: "Hi {{1}}, see {{3}} today", examples: { positional: ["Ana"] } }, footer: { text: "Code {{1}}" } },
        },
        updateMask: { paths: ["components"] },
      }),
    );
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(violations(bad).sort()).toEqual(["template.components.body.text", "template.components.footer.text"]);

    const category = await refusal(t.templates.updateTemplate({ template: { id: v1.id, category: TemplateCategory.MARKETING }, updateMask: { paths: ["category"] } }));
    expect(category.code).toBe(Code.InvalidArgument);
    expect(violations(category)).toEqual(["template.category"]);

    const mask = await refusal(t.templates.updateTemplate({ template: { id: v1.id, name: "renamed" }, updateMask: { paths: ["name"] } }));
    expect(mask.code).toBe(Code.InvalidArgument);

    const nothing = await refusal(t.templates.updateTemplate({ template: { id: v1.id } }));
    expect(nothing.code).toBe(Code.InvalidArgument);
    expect(violations(nothing)).toEqual(["update_mask"]);

    expect(harness.simulator.templateCalls.length).toBe(callsBefore);
    expect((await templateRows(harness.sql, t.id)).map((r) => [r.version, r.status])).toEqual([[1, "APPROVED"]]);
    expect(await versionRows(harness.sql, t.id, v1.id)).toHaveLength(1);
  });

  it("when the template is under review, then the edit is refused (FailedPrecondition) without a Graph call; another tenant's id is NotFound", async () => {
    const t = tenant(url(), "tpl-edit-pending");
    const account = await metaAccount(t);
    const { template } = await t.templates.createTemplate(orderTemplate(account.id));
    const callsBefore = harness.simulator.templateCalls.length;
    const pending = await refusal(t.templates.updateTemplate({ template: { id: template!.id, components: EDITED } }));
    expect(pending.code).toBe(Code.FailedPrecondition);
    expect(reason(pending)).toBe("TEMPLATE_NOT_EDITABLE");

    const other = tenant(url(), "tpl-edit-other");
    await metaAccount(other);
    expect((await refusal(other.templates.updateTemplate({ template: { id: template!.id, components: EDITED } }))).code).toBe(Code.NotFound);
    expect(harness.simulator.templateCalls.length).toBe(callsBefore);
    expect((await t.templates.getTemplate({ templateId: template!.id })).template).toMatchObject({ version: 1, status: TemplateStatus.PENDING });
  });
});

describe("UpdateTemplate masks and validate_only", () => {
  it("when the mask names components only, then a category in the request is ignored; a mask naming category only ignores the components", async () => {
    const t = tenant(url(), "tpl-edit-mask");
    const account = await metaAccount(t);
    const { template: created } = await t.templates.createTemplate(orderTemplate(account.id));
    const rejected = await providerEvent(url(), t, account, created!, "REJECTED", TemplateStatus.REJECTED);

    // A REJECTED template may change category; the mask says only the components change.
    const { template: v2 } = await t.templates.updateTemplate({
      template: { id: rejected.id, category: TemplateCategory.MARKETING, components: EDITED },
      updateMask: { paths: ["components"] },
    });
    expect(v2).toMatchObject({ version: 2, category: TemplateCategory.UTILITY, status: TemplateStatus.PENDING });
    expect(v2!.components!.body!.text).toBe(EDITED.body.text);
    expect(editCalls(rejected.metaTemplateId).map((c) => c.body)).toEqual([{ components: [{ type: "BODY", text: EDITED.body.text, example: { body_text: [["Ana"]] } }] }]);

    // Rejected again; now only the category, with components in the request that would not even validate.
    const again = await providerEvent(url(), t, account, v2!, "REJECTED", TemplateStatus.REJECTED);
    const { template: v3 } = await t.templates.updateTemplate({
      template: { id: again.id, category: TemplateCategory.MARKETING, components: { body: { text: "{{1}}" } } },
      updateMask: { paths: ["category"] },
    });
    expect(v3).toMatchObject({ version: 3, category: TemplateCategory.MARKETING, status: TemplateStatus.PENDING });
    expect(v3!.components!.body!.text).toBe(EDITED.body.text);
    expect(editCalls(rejected.metaTemplateId).map((c) => c.body).at(-1)).toStrictEqual({ category: "MARKETING" });
    expect((await versionRows(harness.sql, t.id, rejected.id)).map((v) => v.version)).toEqual([1, 2, 3]);
  });

  it("when validate_only is set, then the edited template is returned but no Graph call is made and nothing is written", async () => {
    const t = tenant(url(), "tpl-edit-dry");
    const account = await metaAccount(t);
    const v1 = await approvedTemplate(t, account);
    const callsBefore = harness.simulator.templateCalls.length;
    const eventsBefore = (await templateEvents(harness.sql, t.id)).length;

    const { template: preview } = await t.templates.updateTemplate({ template: { id: v1.id, components: EDITED }, updateMask: { paths: ["components"] }, validateOnly: true });
    expect(preview!.components!.body!.text).toBe(EDITED.body.text);
    const invalid = await refusal(t.templates.updateTemplate({ template: { id: v1.id, components: { body: { text: "" } } }, validateOnly: true }));
    expect(violations(invalid)).toEqual(["template.components.body.text"]);

    expect(harness.simulator.templateCalls.length).toBe(callsBefore);
    expect((await t.templates.getTemplate({ templateId: v1.id })).template).toEqual(v1);
    expect(await versionRows(harness.sql, t.id, v1.id)).toHaveLength(1);
    expect((await templateEvents(harness.sql, t.id)).length).toBe(eventsBefore);
  });
});

describe("UpdateTemplate of a sandbox template", () => {
  it("when a sandbox template is edited, then the sandbox approves the new version through the webhook path", async () => {
    const t = tenant(url(), "tpl-edit-sandbox");
    const account = await sandboxAccount(t);
    const { template } = await t.templates.createTemplate({
      template: { accountId: account.id, name: "welcome_edit", language: "es", category: TemplateCategory.UTILITY, components: { body: { text: "Bienvenido a la tienda" } } },
    });
    await eventually("the template to be approved", async () => ((await t.templates.getTemplate({ templateId: template!.id })).template!.status === TemplateStatus.APPROVED ? true : undefined));
    const { template: edited } = await t.templates.updateTemplate({ template: { id: template!.id, components: { body: { text: "Bienvenido, {{1}}, a la tienda", examples: { positional: ["Ana"] } } } } });
    expect(edited).toMatchObject({ version: 2, approvedVersion: 1 });
    const approved = await eventually("the edit to be approved", async () => {
      const { template: now } = await t.templates.getTemplate({ templateId: template!.id });
      return now!.approvedVersion === 2 ? now : undefined;
    });
    expect(approved).toMatchObject({ status: TemplateStatus.APPROVED, version: 2 });
    const sent = await t.messaging.sendMessage({
      accountId: account.id,
      to: "+14155552671",
      content: { case: "template", value: { name: "welcome_edit", language: "es", components: [{ type: ComponentType.BODY, parameters: [text("Ana")] }] } },
    });
    expect(sent.message!.id).not.toBe("");
  });
});
