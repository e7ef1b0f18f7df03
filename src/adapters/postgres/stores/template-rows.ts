/** Rows of `templates` ↔ the domain's Template (shared by the store and the provider reconciliation). */
import type { ParameterFormat, Template, TemplateCategory, TemplateComponents, TemplateStatus } from "../../../domain/templates/index.js";
import type { templates, TemplateStatusName } from "../schema/tenant.js";

/** What `templates.components` / `approved_components` hold. */
export interface StoredContent {
  parameterFormat: ParameterFormat;
  /** approved_components only: the category approved with it. */
  category?: TemplateCategory;
  header?: TemplateComponents["header"];
  body: TemplateComponents["body"];
  footer?: TemplateComponents["footer"];
  buttons: TemplateComponents["buttons"];
}

export type TemplateRow = typeof templates.$inferSelect;


/** The stored status (the schema lists the same names as the domain). */
export function db(status: TemplateStatus): TemplateStatusName {
  return status;
}

export function stored(content: { parameterFormat: ParameterFormat; components: TemplateComponents }): StoredContent {
  return { parameterFormat: content.parameterFormat, ...content.components };
}

export function componentsOf(content: StoredContent): TemplateComponents {
  return { header: content.header ?? undefined, body: content.body, footer: content.footer ?? undefined, buttons: content.buttons ?? [] };
}

export function templateFromRow(row: TemplateRow): Template {
  const content = row.components as StoredContent;
  const approved = row.approvedComponents as StoredContent | null;
  return {
    id: row.id,
    accountId: row.accountId,
    wabaId: row.wabaId.startsWith("account:") ? "" : row.wabaId,
    name: row.name,
    language: row.language,
    category: row.category as TemplateCategory,
    parameterFormat: content.parameterFormat ?? "POSITIONAL",
    components: componentsOf(content),
    messageSendTtlSeconds: row.messageSendTtlSeconds ?? 0,
    metaTemplateId: row.metaTemplateId ?? "",
    status: row.status as TemplateStatus,
    rejectedReason: row.rejectedReason ?? "",
    qualityScore: row.qualityScore ?? "",
    version: row.version,
    approvedVersion: row.approvedVersion ?? 0,
    approved: approved
      ? { parameterFormat: approved.parameterFormat ?? "POSITIONAL", components: componentsOf(approved), category: approved.category ?? (row.category as TemplateCategory) }
      : undefined,
    createTime: row.createTime,
    updateTime: row.updateTime,
    statusUpdateTime: row.statusUpdateTime ?? undefined,
  };
}
