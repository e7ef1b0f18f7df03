/**
 * A sync against what happened here meanwhile: Meta's list is as old as the
 * moment it was taken, so a template created or changed here after that is
 * not undone by it (not deleted, its newer status kept); a template whose
 * create answer was lost is taken over by the sync without an event.
 */
import { describe, expect, it } from "vitest";

import { TemplateStatus } from "../../gen/whatsapp/v1/template_pb.js";
import { fromMetaTemplate } from "../../src/adapters/providers/meta/template-client.js";
import type { RemoteTemplate } from "../../src/ports/template-provider.js";
import { APP_SECRET, metaAccount, orderTemplate, providerEvent, refusal, templateEvents, templateRows, tenant } from "./harness.js";
import { useServiceHarness } from "../kit/service-harness.js";

const harness = useServiceHarness({
  graphSimulator: true,
  env: { META_APP_SECRET: APP_SECRET, WORKERS: "inbox", TEMPLATE_SYNC_INTERVAL_SECONDS: "0" },
  overrides: { providers: { graphTimeoutMs: 1_000 } },
});

const url = () => harness.svc.service.url;

/** Meta's list as the harness.simulator holds it now, read the way the client reads it. */
function metaList(wabaId: string): RemoteTemplate[] {
  return harness.simulator.templates.filter((s) => s.wabaId === wabaId).map(({ wabaId: _w, ...s }) => fromMetaTemplate(s as never)!);
}

describe("sync against newer local changes", () => {
  it("when the list was taken before a template was created here, then the sync does not delete it", async () => {
    const t = tenant(url(), "tpl-race-create");
    const account = await metaAccount(t);
    const listedAt = new Date();
    const listed = metaList(account.wabaId); // empty: taken before the create
    const { template } = await t.templates.createTemplate(orderTemplate(account.id));

    const ref = { id: account.id, tenantId: t.id, provider: "meta" as const, wabaId: account.wabaId };
    const counts = await harness.svc.service.app.templates.reconcile(t.id, ref, listed, listedAt);
    expect(counts).toMatchObject({ deleted: 0 });
    expect((await t.templates.getTemplate({ templateId: template!.id })).template!.status).toBe(TemplateStatus.PENDING);

    // A list taken after the create, without it, does delete it.
    await harness.svc.service.app.templates.reconcile(t.id, ref, [], new Date());
    expect((await refusal(t.templates.getTemplate({ templateId: template!.id }))).rawMessage).toContain("not found");
  });

  it("when the list was taken before a webhook rejected the template, then the sync keeps REJECTED and writes no event", async () => {
    const t = tenant(url(), "tpl-race-webhook");
    const account = await metaAccount(t);
    const { template } = await t.templates.createTemplate(orderTemplate(account.id));
    const listedAt = new Date();
    const listed = metaList(account.wabaId); // says PENDING
    await providerEvent(url(), t, account, template!, "REJECTED", TemplateStatus.REJECTED);

    const ref = { id: account.id, tenantId: t.id, provider: "meta" as const, wabaId: account.wabaId };
    await harness.svc.service.app.templates.reconcile(t.id, ref, listed, listedAt);
    expect((await t.templates.getTemplate({ templateId: template!.id })).template!.status).toBe(TemplateStatus.REJECTED);
    expect((await templateEvents(harness.sql, t.id)).map((e) => e.status)).toEqual([TemplateStatus.REJECTED]);
  });
});

describe("sync against a list that lags Meta's webhooks", () => {
  it("when a list taken after the approval webhook still says PENDING, then the sync keeps APPROVED, writes no event, and sends stay allowed", async () => {
    const t = tenant(url(), "tpl-lag");
    const account = await metaAccount(t);
    const { template } = await t.templates.createTemplate(orderTemplate(account.id));
    await providerEvent(url(), t, account, template!, "APPROVED", TemplateStatus.APPROVED);
    const listed = metaList(account.wabaId); // Meta's list has not caught up: PENDING, same content
    expect(listed.find((r) => r.name === template!.name)?.status).toBe("PENDING");
    const listedAt = new Date(Date.now() + 1_000); // taken after the webhook was recorded

    const ref = { id: account.id, tenantId: t.id, provider: "meta" as const, wabaId: account.wabaId };
    await harness.svc.service.app.templates.reconcile(t.id, ref, listed, listedAt);

    const { template: after } = await t.templates.getTemplate({ templateId: template!.id });
    expect(after!.status).toBe(TemplateStatus.APPROVED);
    expect((await templateEvents(harness.sql, t.id)).map((e) => e.status)).toEqual([TemplateStatus.APPROVED]);
  });
});

describe("sync of a create whose answer was lost", () => {
  it("when Meta took a create but the answer never came, then SyncTemplates takes the template over (PENDING, Meta's id) without an event", async () => {
    const t = tenant(url(), "tpl-race-lost");
    const account = await metaAccount(t);
    const request = orderTemplate(account.id);
    harness.simulator.templateTrouble.push({ hang: true, applied: true });
    await refusal(t.templates.createTemplate(request));
    const [draft] = await templateRows(harness.sql, t.id);
    expect(draft).toMatchObject({ status: "DRAFT", meta_template_id: null });

    const result = await t.templates.syncTemplates({ accountId: account.id });
    expect(result).toMatchObject({ createdCount: 0, updatedCount: 1, deletedCount: 0 });
    const atMeta = harness.simulator.templates.find((s) => s.name === request.template!.name)!;
    expect(await templateRows(harness.sql, t.id)).toMatchObject([{ id: draft!.id, status: "PENDING", meta_template_id: atMeta.id }]);
    expect(await templateEvents(harness.sql, t.id)).toEqual([]);
  });
});
