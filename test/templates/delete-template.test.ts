/**
 * DeleteTemplate against the real service, PostgreSQL and the Graph API
 * simulator: Meta's delete call (`DELETE /{waba_id}/message_templates?name=…&hsm_id=…`,
 * one language only), the template gone from Get/List and from sends,
 * one `template.status` DELETED event, and tenants kept apart.
 */
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";

import { TemplateStatus } from "../../gen/whatsapp/v1/template_pb.js";
import { APP_SECRET, approve, metaAccount, orderTemplate, reason, refusal, templateEvents, templateRows, tenant, TOKEN } from "./harness.js";
import { useServiceHarness } from "../kit/service-harness.js";

const harness = useServiceHarness({
  graphSimulator: true,
  env: { META_APP_SECRET: APP_SECRET, WORKERS: "inbox", TEMPLATE_SYNC_INTERVAL_SECONDS: "0" },
});

const url = () => harness.svc.service.url;

function deleteCalls(wabaId: string) {
  return harness.simulator.templateCalls.filter((c) => c.method === "DELETE" && c.path.startsWith(`/v23.0/${wabaId}/message_templates?`));
}

describe("DeleteTemplate", () => {
  it("when an approved template is deleted, then Meta gets its delete call for that language only, the template is gone from Get, List and sends, and one template.status DELETED is written", async () => {
    const t = tenant(url(), "tpl-delete");
    const account = await metaAccount(t);
    const request = orderTemplate(account.id);
    const { template: created } = await t.templates.createTemplate(request);
    const english = await approve(url(), t, account, created!);
    // The same name in another language stays.
    const { template: spanish } = await t.templates.createTemplate({ template: { ...request.template, language: "es" } });

    await t.templates.deleteTemplate({ templateId: english.id });

    const calls = deleteCalls(account.wabaId);
    expect(calls).toHaveLength(1);
    const called = new URL(calls[0]!.path, "http://graph");
    expect(Object.fromEntries(called.searchParams)).toEqual({ name: english.name, hsm_id: english.metaTemplateId });
    expect(calls[0]!.authorization).toBe(`Bearer ${TOKEN}`);
    expect(calls[0]!.body).toBeUndefined();
    expect(harness.simulator.templates.filter((s) => s.name === english.name).map((s) => s.language)).toEqual(["es"]);

    expect((await refusal(t.templates.getTemplate({ templateId: english.id }))).code).toBe(Code.NotFound);
    const { templates: listed } = await t.templates.listTemplates({ accountId: account.id, name: english.name });
    expect(listed.map((x) => x.id)).toEqual([spanish!.id]);
    const [row] = (await templateRows(harness.sql, t.id)).filter((r) => r.id === english.id);
    expect(row).toMatchObject({ status: "DELETED" });
    expect(row!.delete_time).not.toBeNull();

    const sendsBefore = harness.simulator.requests.length;
    const send = await refusal(t.messaging.sendMessage({ accountId: account.id, to: "+14155552671", content: { case: "template", value: { name: english.name, language: "en_US" } } }));
    expect(send.code).toBe(Code.FailedPrecondition);
    expect(reason(send)).toBe("TEMPLATE_NOT_FOUND");
    expect(harness.simulator.requests.length).toBe(sendsBefore);

    const events = (await templateEvents(harness.sql, t.id)).filter((e) => e.templateId === english.id);
    expect(events.map((e) => [e.status, e.previousStatus, e.providerEvent])).toEqual([
      [TemplateStatus.APPROVED, TemplateStatus.PENDING, "APPROVED"],
      [TemplateStatus.DELETED, TemplateStatus.APPROVED, "DELETE_TEMPLATE"],
    ]);
    expect(events[1]).toMatchObject({ accountId: account.id, wabaId: account.wabaId, metaTemplateId: english.metaTemplateId, name: english.name, language: "en_US" });

    // Deleted twice: NotFound, and no second call to Meta.
    expect((await refusal(t.templates.deleteTemplate({ templateId: english.id }))).code).toBe(Code.NotFound);
    expect(deleteCalls(account.wabaId)).toHaveLength(1);
  });

  it("when another tenant deletes the template's id, then NotFound and nothing is deleted here or at Meta", async () => {
    const t = tenant(url(), "tpl-delete-owner");
    const account = await metaAccount(t);
    const { template } = await t.templates.createTemplate(orderTemplate(account.id));
    const other = tenant(url(), "tpl-delete-other");
    await metaAccount(other);

    expect((await refusal(other.templates.deleteTemplate({ templateId: template!.id }))).code).toBe(Code.NotFound);
    expect(deleteCalls(account.wabaId)).toHaveLength(0);
    expect((await t.templates.getTemplate({ templateId: template!.id })).template!.status).toBe(TemplateStatus.PENDING);
  });

  it("when Meta refuses the deletion, then the template stays (FailedPrecondition naming Meta's message); when Meta no longer has it, it is deleted here", async () => {
    const t = tenant(url(), "tpl-delete-refused");
    const account = await metaAccount(t);
    const { template } = await t.templates.createTemplate(orderTemplate(account.id));
    harness.simulator.templateTrouble.push({ httpStatus: 400, code: 100, title: "Disabled templates cannot be deleted" });
    const refused = await refusal(t.templates.deleteTemplate({ templateId: template!.id }));
    expect(refused.code).toBe(Code.FailedPrecondition);
    expect(refused.rawMessage).toContain("Disabled templates cannot be deleted");
    expect((await t.templates.getTemplate({ templateId: template!.id })).template!.status).toBe(TemplateStatus.PENDING);

    // Deleted in Meta's UI meanwhile: Meta answers 404, and the local copy goes too.
    harness.simulator.templates.splice(
      harness.simulator.templates.findIndex((s) => s.id === template!.metaTemplateId),
      1,
    );
    await t.templates.deleteTemplate({ templateId: template!.id });
    expect((await refusal(t.templates.getTemplate({ templateId: template!.id }))).code).toBe(Code.NotFound);
  });
});
