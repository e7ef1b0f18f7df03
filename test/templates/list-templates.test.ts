/**
 * ListTemplates against the real service and PostgreSQL: pages ordered by
 * name then language whose tokens neither skip nor repeat (also when
 * templates are added between pages), and the filters — name, language,
 * status, category, account (its WABA's templates, whichever number made
 * them) — alone and together.
 */
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";

import type { Account } from "../../gen/whatsapp/v1/account_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { TemplateCategory, TemplateStatus, type ListTemplatesRequestSchema, type Template } from "../../gen/whatsapp/v1/template_pb.js";
import { APP_SECRET, approve, metaAccount, orderTemplate, providerEvent, refusal, tenant, violations, type Tenant } from "./harness.js";
import { useServiceHarness } from "../kit/service-harness.js";

const harness = useServiceHarness({
  graphSimulator: true,
  env: { META_APP_SECRET: APP_SECRET, WORKERS: "inbox", TEMPLATE_SYNC_INTERVAL_SECONDS: "0" },
});

const url = () => harness.svc.service.url;

async function create(t: Tenant, account: Account, name: string, language: string, category = TemplateCategory.UTILITY): Promise<Template> {
  const request = orderTemplate(account.id, name);
  const { template } = await t.templates.createTemplate({ template: { ...request.template, language, category } });
  return template!;
}

/** Every page of a listing, and the tokens it took. */
async function allPages(t: Tenant, request: MessageInitShape<typeof ListTemplatesRequestSchema>): Promise<{ pages: Template[][]; templates: Template[] }> {
  const pages: Template[][] = [];
  let pageToken = "";
  do {
    const page = await t.templates.listTemplates({ ...request, pageToken });
    pages.push(page.templates);
    pageToken = page.nextPageToken;
    if (pages.length > 100) throw new Error("paging does not end");
  } while (pageToken !== "");
  return { pages, templates: pages.flat() };
}

const key = (x: Pick<Template, "name" | "language">) => `${x.name}/${x.language}`;

/**
 * One tenant with two WABAs: account `a` and `shared` (another number of
 * a's WABA), account `b`. Templates in several languages, categories and
 * statuses.
 */
async function catalog(label: string) {
  const t = tenant(url(), label);
  const a = await metaAccount(t);
  const shared = await metaAccount(t, a.wabaId);
  const b = await metaAccount(t);
  const made = {
    alphaEn: await create(t, a, "alpha", "en_US"),
    alphaEs: await create(t, a, "alpha", "es"),
    bravoEn: await create(t, shared, "bravo", "en_US", TemplateCategory.MARKETING),
    charlieEn: await create(t, a, "charlie", "en_US"),
    deltaPt: await create(t, a, "delta", "pt_BR", TemplateCategory.MARKETING),
    alphaB: await create(t, b, "alpha", "en_US"),
    echoB: await create(t, b, "echo", "es"),
  };
  await approve(url(), t, a, made.alphaEn);
  await approve(url(), t, a, made.bravoEn);
  await approve(url(), t, b, made.echoB);
  await providerEvent(url(), t, a, made.charlieEn, "REJECTED", TemplateStatus.REJECTED);
  return { t, a, shared, b, made };
}

describe("ListTemplates paging", () => {
  it("when listed two at a time, then the pages hold every template once, ordered by name then language, and the last page has no token", async () => {
    const { t, made } = await catalog("tpl-list-pages");
    const { pages, templates } = await allPages(t, { pageSize: 2 });
    expect(pages.map((p) => p.length)).toEqual([2, 2, 2, 1]);
    const expected = Object.values(made)
      .map((x) => ({ name: x.name, language: x.language, id: x.id }))
      .sort((x, y) => (x.name !== y.name ? (x.name < y.name ? -1 : 1) : x.language !== y.language ? (x.language < y.language ? -1 : 1) : x.id < y.id ? -1 : 1));
    expect(templates.map((x) => x.id)).toEqual(expected.map((x) => x.id));
    expect(templates.map(key)).toEqual(["alpha/en_US", "alpha/en_US", "alpha/es", "bravo/en_US", "charlie/en_US", "delta/pt_BR", "echo/es"]);

    // Default page size: everything at once.
    const all = await t.templates.listTemplates({});
    expect(all.templates.map((x) => x.id)).toEqual(templates.map((x) => x.id));
    expect(all.nextPageToken).toBe("");
  });

  it("when templates are added between pages, then the pages that follow neither repeat nor skip: names after the cursor appear, names before it do not", async () => {
    const { t, a } = await catalog("tpl-list-moving");
    const first = await t.templates.listTemplates({ pageSize: 3 });
    expect(first.templates.map(key)).toEqual(["alpha/en_US", "alpha/en_US", "alpha/es"]);
    await create(t, a, "aaron", "en_US"); // before the cursor
    await create(t, a, "zulu", "en_US"); // after it
    const rest: Template[] = [];
    let pageToken = first.nextPageToken;
    while (pageToken !== "") {
      const page = await t.templates.listTemplates({ pageSize: 3, pageToken });
      rest.push(...page.templates);
      pageToken = page.nextPageToken;
    }
    expect(rest.map(key)).toEqual(["bravo/en_US", "charlie/en_US", "delta/pt_BR", "echo/es", "zulu/en_US"]);
    const seen = [...first.templates, ...rest].map((x) => x.id);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("when the page token is not one of ours or the page size is over 1000, then InvalidArgument", async () => {
    const t = tenant(url(), "tpl-list-bad");
    const badToken = await refusal(t.templates.listTemplates({ pageToken: "bm90LWEtdG9rZW4" }));
    expect(badToken.code).toBe(Code.InvalidArgument);
    expect(violations(badToken)).toEqual(["page_token"]);
    expect((await refusal(t.templates.listTemplates({ pageSize: 1001 }))).code).toBe(Code.InvalidArgument);
  });
});

describe("ListTemplates filters", () => {
  it("when filtered by name, language, status, category or account, then only the matching templates are listed, also page by page", async () => {
    const { t, a, shared, b, made } = await catalog("tpl-list-filters");
    const ids = (list: Template[]) => list.map((x) => x.id).sort();
    const list = async (request: MessageInitShape<typeof ListTemplatesRequestSchema>) => (await allPages(t, { pageSize: 1, ...request })).templates;

    expect(ids(await list({ name: "alpha" }))).toEqual(ids([made.alphaEn, made.alphaEs, made.alphaB]));
    expect(ids(await list({ language: "es" }))).toEqual(ids([made.alphaEs, made.echoB]));
    expect(ids(await list({ status: TemplateStatus.APPROVED }))).toEqual(ids([made.alphaEn, made.bravoEn, made.echoB]));
    expect(ids(await list({ status: TemplateStatus.REJECTED }))).toEqual(ids([made.charlieEn]));
    expect(ids(await list({ status: TemplateStatus.PENDING }))).toEqual(ids([made.alphaEs, made.deltaPt, made.alphaB]));
    expect(ids(await list({ category: TemplateCategory.MARKETING }))).toEqual(ids([made.bravoEn, made.deltaPt]));

    // An account sees its WABA's templates, whichever of its numbers created them.
    const wabaA = ids([made.alphaEn, made.alphaEs, made.bravoEn, made.charlieEn, made.deltaPt]);
    expect(ids(await list({ accountId: a.id }))).toEqual(wabaA);
    expect(ids(await list({ accountId: shared.id }))).toEqual(wabaA);
    expect(ids(await list({ accountId: b.id }))).toEqual(ids([made.alphaB, made.echoB]));

    // Together.
    expect(ids(await list({ accountId: a.id, name: "alpha", language: "en_US" }))).toEqual([made.alphaEn.id]);
    expect(ids(await list({ accountId: b.id, status: TemplateStatus.APPROVED }))).toEqual([made.echoB.id]);
    expect(await list({ accountId: b.id, category: TemplateCategory.MARKETING })).toEqual([]);
    expect(await list({ name: "no_such_template" })).toEqual([]);

    // Another tenant's account names nothing here; this tenant's templates are not another's.
    const other = tenant(url(), "tpl-list-other");
    const otherAccount = await metaAccount(other);
    expect(await list({ accountId: otherAccount.id })).toEqual([]);
    expect((await other.templates.listTemplates({ accountId: a.id })).templates).toEqual([]);
    expect((await other.templates.listTemplates({})).templates).toEqual([]);
  });
});
