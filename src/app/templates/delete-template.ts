import { DomainError } from "../../domain/errors.js";
import { accountForTemplates, providerFailure, type TemplateDeps } from "./deps.js";

/** Deletes one language of a template at the provider, then here (status DELETED, no longer listed or sendable). */
export async function deleteTemplate(deps: TemplateDeps, tenantId: string, id: string): Promise<void> {
  const current = await deps.templates.get(tenantId, id);
  if (!current) throw DomainError.notFound("template", id);
  if (current.metaTemplateId !== "") {
    const { provider } = await accountForTemplates(deps, tenantId, current.accountId, "template_id");
    const deleted = await deps.templateProviders.forAccount(provider).delete(provider, current.name, current.metaTemplateId);
    // Already gone at the provider (e.g. deleted in Meta's UI): nothing left to do there.
    const gone = !deleted.ok && deleted.kind === "rejected" && deleted.error.httpStatus === 404;
    if (!deleted.ok && !gone) throw providerFailure(deleted, `template ${current.name} (${current.language}) was not deleted`);
  }
  await deps.templates.markDeleted(tenantId, id, deps.now());
}
