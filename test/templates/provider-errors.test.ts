/**
 * TemplateService when Meta says no or says nothing: a refused create is
 * InvalidArgument naming Meta's message and leaves nothing that blocks the
 * corrected retry; a 5xx or a timeout is Unavailable and the retried create
 * succeeds once, without a duplicate here or at Meta (also when the lost
 * attempt had reached Meta); a refused or unanswered edit changes nothing.
 */
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";

import { TemplateMessageComponent_Type as ComponentType } from "../../gen/whatsapp/v1/message_pb.js";
import { TemplateCategory, TemplateStatus, type Template } from "../../gen/whatsapp/v1/template_pb.js";
import type { TemplateTrouble } from "../support/graph-simulator.js";
import { APP_SECRET, approve, metaAccount, orderTemplate, reason, refusal, templateEvents, templateRows, tenant, uniqueName, versionRows, violations } from "./harness.js";
import { useServiceHarness } from "../kit/service-harness.js";

/** Meta's answer to a template whose placeholders outweigh its words (reference §6.1 shape, §6.2 template-creation subcodes). */
const TOO_MANY_VARIABLES = {
  error: {
    message: "Invalid parameter",
    type: "OAuthException",
    code: 100,
    error_subcode: 2388293,
    is_transient: false,
    error_user_title: "Variable parameters to message length ratio too high",
    error_user_msg:
      "This template contains too many variable parameters relative to the message length. You need to decrease the number of variable parameters or increase the message length.",
    fbtrace_id: "AQnVx3b2Lh0e9kX_pT1oQ4M",
  },
};

const GRAPH_TIMEOUT_MS = 1_000;

const harness = useServiceHarness({
  graphSimulator: true,
  env: { META_APP_SECRET: APP_SECRET, WORKERS: "inbox", TEMPLATE_SYNC_INTERVAL_SECONDS: "0" },
  overrides: { providers: { graphTimeoutMs: GRAPH_TIMEOUT_MS } },
});

const url = () => harness.svc.service.url;
const atMeta = (name: string) => harness.simulator.templates.filter((s) => s.name === name);

describe("Meta refuses a create", () => {
  it("when Meta refuses the content (#100, 2388293), then InvalidArgument names Meta's message, nothing is kept, and the corrected template is created", async () => {
    const t = tenant(url(), "tpl-meta-refuses");
    const account = await metaAccount(t);
    const name = uniqueName("short_note");
    const request = orderTemplate(account.id, name);
    request.template!.components!.body = { text: "Hi {{1}} {{2}} {{3}} today", examples: { positional: ["Ana", "Bo", "Cy"] } };
    harness.simulator.templateTrouble.push({ httpStatus: 400, code: 100, body: TOO_MANY_VARIABLES });

    const refused = await refusal(t.templates.createTemplate(request));
    expect(refused.code).toBe(Code.InvalidArgument);
    expect(reason(refused)).toBe("PROVIDER_REFUSED");
    expect(violations(refused)).toEqual(["template"]);
    expect(refused.rawMessage).toContain(TOO_MANY_VARIABLES.error.error_user_msg);
    expect(await templateRows(harness.sql, t.id)).toEqual([]);
    expect(atMeta(name)).toEqual([]);

    request.template!.components!.body = { text: "Hi {{1}}, your parcel from {{2}} arrives at {{3}} today; reply if the time does not suit you.", examples: { positional: ["Ana", "Acme", "5 pm"] } };
    const { template } = await t.templates.createTemplate(request);
    expect(template).toMatchObject({ status: TemplateStatus.PENDING, version: 1 });
    expect(atMeta(name).map((s) => s.id)).toEqual([template!.metaTemplateId]);
    expect((await templateRows(harness.sql, t.id)).map((r) => [r.id, r.status])).toEqual([[template!.id, "PENDING"]]);
  });

  it("when Meta refuses the account's token (#190), then FailedPrecondition names Meta's message and nothing is kept", async () => {
    const t = tenant(url(), "tpl-meta-token");
    const account = await metaAccount(t);
    harness.simulator.templateTrouble.push({ httpStatus: 401, code: 190, title: "Error validating access token: Session has expired" });
    const refused = await refusal(t.templates.createTemplate(orderTemplate(account.id)));
    expect(refused.code).toBe(Code.FailedPrecondition);
    expect(refused.rawMessage).toContain("Session has expired");
    expect(await templateRows(harness.sql, t.id)).toEqual([]);
  });
});

describe("Meta does not answer a create", () => {
  const cases: [string, TemplateTrouble][] = [
    ["a 5xx", { httpStatus: 503, code: 2, title: "Service temporarily unavailable" }],
    ["a timeout before Meta took it", { hang: true, applied: false }],
    ["a timeout after Meta took it", { hang: true, applied: true }],
  ];
  it.each(cases)("when Meta answers %s, then Unavailable, and the retried create succeeds once, with one template here and at Meta", async (_label, trouble) => {
    const t = tenant(url(), "tpl-meta-down");
    const account = await metaAccount(t);
    const name = uniqueName("retry_me");
    const request = orderTemplate(account.id, name);
    harness.simulator.templateTrouble.push(trouble);

    const failed = await refusal(t.templates.createTemplate(request));
    expect(failed.code).toBe(Code.Unavailable);
    expect(reason(failed)).toBe("PROVIDER_UNAVAILABLE");
    // Kept as a DRAFT, which the retry takes over.
    const [draft] = await templateRows(harness.sql, t.id);
    expect(draft).toMatchObject({ name, status: "DRAFT", meta_template_id: null });
    expect(atMeta(name)).toHaveLength("applied" in trouble && trouble.applied ? 1 : 0);

    const { template } = await t.templates.createTemplate(request);
    expect(template).toMatchObject({ id: draft!.id, name, status: TemplateStatus.PENDING, version: 1 });
    expect(atMeta(name).map((s) => s.id)).toEqual([template!.metaTemplateId]);
    expect((await templateRows(harness.sql, t.id)).map((r) => [r.id, r.status, r.meta_template_id])).toEqual([[template!.id, "PENDING", template!.metaTemplateId]]);
    expect(await versionRows(harness.sql, t.id, template!.id)).toHaveLength(1);
    // A third call is a plain duplicate.
    expect((await refusal(t.templates.createTemplate(request))).code).toBe(Code.AlreadyExists);
  });
});

describe("Meta's answer to a create decides at once", () => {
  it("when Meta answers the create APPROVED, then the template is approved (sendable, approved version 1) with one template.status event", async () => {
    const t = tenant(url(), "tpl-meta-approves");
    const account = await metaAccount(t);
    harness.simulator.createStatus = "APPROVED";
    let created: Template;
    try {
      const request = { accountId: account.id, name: uniqueName("parcel_note"), language: "en_US", category: TemplateCategory.UTILITY, components: { body: { text: "Your parcel is on its way." } } };
      created = (await t.templates.createTemplate({ template: request })).template!;
    } finally {
      harness.simulator.createStatus = "PENDING";
    }
    expect(created).toMatchObject({ status: TemplateStatus.APPROVED, version: 1, approvedVersion: 1 });
    const sent = await t.messaging.sendMessage({ accountId: account.id, to: "+14155552671", content: { case: "template", value: { name: created.name, language: "en_US" } } });
    expect(sent.message!.id).not.toBe("");
    expect((await templateEvents(harness.sql, t.id)).map((e) => [e.status, e.previousStatus, e.version])).toEqual([[TemplateStatus.APPROVED, TemplateStatus.DRAFT, 1]]);
  });
});

describe("Meta refuses or does not answer an edit", () => {
  it("when the edit is refused or unanswered, then the template stays as it was (version 1, APPROVED); a later edit goes through", async () => {
    const t = tenant(url(), "tpl-meta-edit");
    const account = await metaAccount(t);
    const { template: created } = await t.templates.createTemplate(orderTemplate(account.id));
    const v1 = await approve(url(), t, account, created!);
    const edit = { template: { id: v1.id, components: { body: { text: "Hello {{1}}, it is ready.", examples: { positional: ["Ana"] } } } }, updateMask: { paths: ["components"] } };

    harness.simulator.templateTrouble.push({ httpStatus: 400, code: 100, body: TOO_MANY_VARIABLES });
    const refused = await refusal(t.templates.updateTemplate(edit));
    expect(refused.code).toBe(Code.InvalidArgument);
    expect(refused.rawMessage).toContain("too many variable parameters");

    harness.simulator.templateTrouble.push({ httpStatus: 500, code: 1, title: "An unknown error occurred" });
    expect((await refusal(t.templates.updateTemplate(edit))).code).toBe(Code.Unavailable);

    expect((await t.templates.getTemplate({ templateId: v1.id })).template).toEqual(v1);
    expect(await versionRows(harness.sql, t.id, v1.id)).toHaveLength(1);
    // Sends still fill version 1.
    const text = (value: string) => ({ value: { case: "text" as const, value } });
    const wrong = await refusal(
      t.messaging.sendMessage({
        accountId: account.id,
        to: "+14155552671",
        content: { case: "template", value: { name: v1.name, language: "en_US", components: [{ type: ComponentType.BODY, parameters: [text("Ana")] }] } },
      }),
    );
    expect(wrong.code).toBe(Code.InvalidArgument);

    const { template: v2 } = await t.templates.updateTemplate(edit);
    expect(v2).toMatchObject({ version: 2, approvedVersion: 1, status: TemplateStatus.PENDING });
  });
});
