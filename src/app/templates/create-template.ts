import { DomainError } from "../../domain/errors.js";
import { canonicalJson, validateNewTemplate, type Template, type TemplateContent } from "../../domain/templates/index.js";
import type { RemoteTemplate, TemplateProvider } from "../../ports/template-provider.js";
import type { ProviderAccount } from "../../ports/whatsapp-provider.js";
import { accountForTemplates, providerFailure, type TemplateDeps } from "./deps.js";

export interface CreateTemplateInput extends TemplateContent {
  accountId: string;
  name: string;
  language: string;
  /** "" for none: a repeat with the same content returns the template created first. */
  requestId: string;
  validateOnly: boolean;
}

/**
 * Validates a template against WhatsApp's rules, stores it (DRAFT, version
 * 1) and submits it to the provider for review. The provider's refusal
 * removes the draft and says why; no answer leaves the DRAFT (a retried
 * create submits it again, or — when the lost attempt had in fact reached
 * the provider — takes the template the provider already has).
 */
export async function createTemplate(deps: TemplateDeps, tenantId: string, input: CreateTemplateInput): Promise<Template> {
  const violations = validateNewTemplate(input);
  if (violations.length > 0) throw DomainError.invalid(violations);
  const { account, ref, provider } = await accountForTemplates(deps, tenantId, input.accountId, "template.account_id");
  const content: TemplateContent = {
    category: input.category,
    parameterFormat: input.parameterFormat,
    components: input.components,
    messageSendTtlSeconds: input.messageSendTtlSeconds,
  };
  const now = deps.now();
  if (input.validateOnly) return preview(account.id, account.wabaId, input, content, now);

  const { template: draft, outcome } = await deps.templates.insertDraft(tenantId, { id: deps.newId(), account: ref, name: input.name, language: input.language, ...content }, now);
  if (outcome === "conflict") {
    if (input.requestId !== "" && sameContent(draft, content)) return draft;
    throw new DomainError("already_exists", "TEMPLATE_EXISTS", `template ${input.name} (${input.language}) already exists for this WhatsApp Business Account: ${draft.id}`);
  }
  const templateProvider = deps.templateProviders.forAccount(provider);
  const submitted = await templateProvider.create(provider, { name: input.name, language: input.language, ...content });
  if (!submitted.ok) {
    if (submitted.kind === "rejected") {
      // An earlier attempt's answer was lost (timeout) but the provider took it: this one is
      // refused as a duplicate. The template is there; take it instead of failing the retry.
      const earlier = outcome === "draft_reused" ? await submittedBefore(templateProvider, provider, input) : undefined;
      if (earlier) return deps.templates.recordSubmission(tenantId, draft.id, { providerId: earlier.id, status: earlier.status, category: earlier.category }, deps.now());
      await deps.templates.removeDraft(tenantId, draft.id);
    }
    throw providerFailure(submitted, `template ${input.name} (${input.language}) was not submitted`, "template");
  }
  return deps.templates.recordSubmission(
    tenantId,
    draft.id,
    { providerId: submitted.value.id, status: submitted.value.status, ...(submitted.value.category ? { category: submitted.value.category } : {}) },
    deps.now(),
  );
}

/** The provider's template of that name and language, if it has one (undefined when it cannot tell). */
async function submittedBefore(templateProvider: TemplateProvider, provider: ProviderAccount, input: { name: string; language: string }): Promise<RemoteTemplate | undefined> {
  const listed = await templateProvider.list(provider);
  if (!listed?.ok) return undefined;
  const language = (code: string) => code.replace("-", "_").toLowerCase();
  return listed.value.find((t) => t.name === input.name && language(t.language) === language(input.language));
}

function sameContent(template: Template, content: TemplateContent): boolean {
  const shape = (c: TemplateContent) => canonicalJson([c.category, c.parameterFormat, c.components, c.messageSendTtlSeconds]);
  return shape(template) === shape(content);
}

function preview(accountId: string, wabaId: string, input: CreateTemplateInput, content: TemplateContent, now: Date): Template {
  return {
    id: "",
    accountId,
    wabaId,
    name: input.name,
    language: input.language,
    ...content,
    metaTemplateId: "",
    status: "DRAFT",
    rejectedReason: "",
    qualityScore: "",
    version: 1,
    approvedVersion: 0,
    approved: undefined,
    createTime: now,
    updateTime: now,
    statusUpdateTime: undefined,
  };
}
