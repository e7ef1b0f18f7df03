import { DomainError } from "../../domain/errors.js";
import type { TemplateComponent } from "../../domain/outbound/index.js";
import { renderTemplate as render, type RenderedTemplate, type Template } from "../../domain/templates/index.js";
import type { TemplateDeps } from "./deps.js";

export type RenderTarget = { templateId: string } | { accountId: string; name: string; language: string };

/** Fills a template's placeholders with the parameters a send would carry: the text the user would see. */
export async function renderTemplate(
  deps: Pick<TemplateDeps, "templates" | "accounts">,
  tenantId: string,
  target: RenderTarget,
  parameters: readonly TemplateComponent[],
): Promise<RenderedTemplate & { template: Template }> {
  const template = await findTarget(deps, tenantId, target);
  return { ...render(template, parameters), template };
}

async function findTarget(deps: Pick<TemplateDeps, "templates" | "accounts">, tenantId: string, target: RenderTarget): Promise<Template> {
  if ("templateId" in target) {
    const found = await deps.templates.get(tenantId, target.templateId);
    if (!found) throw DomainError.notFound("template", target.templateId);
    return found;
  }
  const account = await deps.accounts.get(tenantId, target.accountId);
  if (!account) throw DomainError.notFound("account", target.accountId);
  const found = await deps.templates.find(tenantId, { id: account.id, tenantId, provider: account.provider, wabaId: account.wabaId }, target.name, target.language);
  if (!found) throw DomainError.notFound("template", `${target.name} (${target.language})`);
  return found;
}
