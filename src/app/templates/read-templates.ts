import { DomainError } from "../../domain/errors.js";
import type { Template } from "../../domain/templates/index.js";
import type { TemplatePage, TemplateQuery } from "../../ports/template-store.js";
import type { TemplateDeps } from "./deps.js";

export const DEFAULT_TEMPLATE_PAGE_SIZE = 50;

export async function getTemplate(deps: Pick<TemplateDeps, "templates">, tenantId: string, id: string): Promise<Template> {
  const template = await deps.templates.get(tenantId, id);
  if (!template) throw DomainError.notFound("template", id);
  return template;
}

export async function listTemplates(deps: Pick<TemplateDeps, "templates">, tenantId: string, query: TemplateQuery): Promise<TemplatePage> {
  return deps.templates.list(tenantId, { ...query, pageSize: query.pageSize === 0 ? DEFAULT_TEMPLATE_PAGE_SIZE : query.pageSize });
}
