import { DomainError } from "../../domain/errors.js";
import { canonicalJson, isEditable, validateTemplateContent, type Template, type TemplateContent } from "../../domain/templates/index.js";
import type { TemplateEditPart } from "../../ports/template-provider.js";
import { accountForTemplates, providerFailure, type TemplateDeps } from "./deps.js";

/** Fields an edit may change, by their API name (update mask paths). */
export const UPDATABLE_TEMPLATE_FIELDS = ["category", "parameter_format", "components", "message_send_ttl_seconds"] as const;
export type UpdatableTemplateField = (typeof UPDATABLE_TEMPLATE_FIELDS)[number];

export interface UpdateTemplateInput {
  id: string;
  fields: ReadonlySet<UpdatableTemplateField>;
  values: TemplateContent;
  validateOnly: boolean;
}

/**
 * Edits a template the way Meta allows (reference §7.6): APPROVED, REJECTED
 * or PAUSED templates only, the category not while APPROVED, components
 * replaced whole. The edit goes to the provider first (only the parts that
 * change; an edit that changes nothing is no edit); accepted, it is a new
 * version back in review (PENDING) — the approved version stays in use for
 * sends until the new one is approved.
 */
export async function updateTemplate(deps: TemplateDeps, tenantId: string, input: UpdateTemplateInput): Promise<Template> {
  const current = await deps.templates.get(tenantId, input.id);
  if (!current) throw DomainError.notFound("template", input.id);
  if (!isEditable(current.status)) {
    throw new DomainError("failed_precondition", "TEMPLATE_NOT_EDITABLE", `template ${input.id} is ${current.status}: only APPROVED, REJECTED or PAUSED templates can be edited`);
  }
  const { fields, values } = input;
  if (fields.size === 0) throw DomainError.invalid([{ field: "update_mask", description: "names nothing to change" }]);
  const next: TemplateContent = {
    category: fields.has("category") ? values.category : current.category,
    parameterFormat: fields.has("parameter_format") ? values.parameterFormat : current.parameterFormat,
    components: fields.has("components") ? values.components : current.components,
    messageSendTtlSeconds: fields.has("message_send_ttl_seconds") ? values.messageSendTtlSeconds : current.messageSendTtlSeconds,
  };
  const parts: TemplateEditPart[] = [];
  if (next.category !== current.category) parts.push("category");
  if (contentKey(next) !== contentKey(current)) parts.push("components");
  // Nothing changes: no new version, and no edit spent at the provider (Meta allows one a day on approved templates).
  if (parts.length === 0) return current;
  if (next.category !== current.category && current.status === "APPROVED") {
    throw DomainError.invalid([{ field: "template.category", description: "cannot change while the template is APPROVED" }]);
  }
  const violations = validateTemplateContent(next);
  if (violations.length > 0) throw DomainError.invalid(violations);
  if (input.validateOnly) return { ...current, ...next };

  const { provider } = await accountForTemplates(deps, tenantId, current.accountId, "template.account_id");
  let status = current.status;
  if (current.metaTemplateId !== "") {
    const edited = await deps.templateProviders.forAccount(provider).edit(provider, current.metaTemplateId, { name: current.name, language: current.language, ...next }, parts);
    if (!edited.ok) throw providerFailure(edited, `template ${current.name} (${current.language}) was not edited`, "template");
    status = "PENDING";
  }
  return deps.templates.recordEdit(tenantId, current.id, next, status, deps.now());
}

/** What a components edit replaces at the provider: components, parameter format and TTL. */
function contentKey(content: TemplateContent): string {
  return canonicalJson([content.parameterFormat, content.components, content.messageSendTtlSeconds]);
}
