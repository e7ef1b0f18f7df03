/** TemplateService handlers, one per RPC: request → use case → response. */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext } from "@connectrpc/connect";

import {
  createTemplate,
  deleteTemplate,
  getTemplate,
  listTemplates,
  renderTemplate,
  syncTemplates,
  UPDATABLE_TEMPLATE_FIELDS,
  updateTemplate,
  type TemplateDeps,
  type UpdatableTemplateField,
} from "../../../app/templates/index.js";
import { DomainError } from "../../../domain/errors.js";
import type { TemplateContent as SendTemplateContent } from "../../../domain/outbound/index.js";
import { TemplateContentSchema } from "../../../../gen/whatsapp/v1/message_pb.js";
import {
  CreateTemplateResponseSchema,
  DeleteTemplateResponseSchema,
  GetTemplateResponseSchema,
  ListTemplatesResponseSchema,
  RenderTemplateResponseSchema,
  SyncTemplatesResponseSchema,
  UpdateTemplateResponseSchema,
  type CreateTemplateRequest,
  type DeleteTemplateRequest,
  type GetTemplateRequest,
  type ListTemplatesRequest,
  type RenderTemplateRequest,
  type SyncTemplatesRequest,
  type Template as PbTemplate,
  type UpdateTemplateRequest,
} from "../../../../gen/whatsapp/v1/template_pb.js";
import { parameterFormatFromPb, templateCategoryFromPb, templateStatusFromPb } from "../../events/template-events-pb.js";
import { contentFromPb } from "../messaging/content-from-pb.js";
import { tenantOf } from "../tenant-context.js";
import { componentsFromPb, templateToPb } from "./template-mapper.js";

export function createTemplateHandler(deps: TemplateDeps) {
  return async (req: CreateTemplateRequest, ctx: HandlerContext) => {
    const t = req.template!;
    const category = templateCategoryFromPb(t.category);
    if (!category) throw DomainError.invalid([{ field: "template.category", description: "must be MARKETING, UTILITY or AUTHENTICATION" }]);
    const template = await createTemplate(deps, tenantOf(ctx), {
      accountId: t.accountId,
      name: t.name,
      language: t.language,
      category,
      parameterFormat: parameterFormatFromPb(t.parameterFormat),
      components: componentsFromPb(t.components),
      messageSendTtlSeconds: t.messageSendTtlSeconds,
      requestId: req.requestId,
      validateOnly: req.validateOnly,
    });
    return create(CreateTemplateResponseSchema, { template: templateToPb(template) });
  };
}

export function getTemplateHandler(deps: TemplateDeps) {
  return async (req: GetTemplateRequest, ctx: HandlerContext) =>
    create(GetTemplateResponseSchema, { template: templateToPb(await getTemplate(deps, tenantOf(ctx), req.templateId)) });
}

const UPDATABLE = new Set<string>(UPDATABLE_TEMPLATE_FIELDS);

/** AIP-134: the mask names the fields; without one, every populated updatable field. */
function fieldsToUpdate(t: PbTemplate, paths: readonly string[]): Set<UpdatableTemplateField> {
  if (paths.length > 0) {
    const unknown = paths.filter((p) => !UPDATABLE.has(p));
    if (unknown.length > 0) throw DomainError.invalid(unknown.map((p) => ({ field: "update_mask", description: `"${p}" cannot be updated` })));
    return new Set(paths as UpdatableTemplateField[]);
  }
  const present: Record<UpdatableTemplateField, boolean> = {
    category: t.category !== 0,
    parameter_format: t.parameterFormat !== 0,
    components: t.components !== undefined,
    message_send_ttl_seconds: t.messageSendTtlSeconds !== 0,
  };
  return new Set(UPDATABLE_TEMPLATE_FIELDS.filter((f) => present[f]));
}

export function updateTemplateHandler(deps: TemplateDeps) {
  return async (req: UpdateTemplateRequest, ctx: HandlerContext) => {
    const t = req.template!;
    const fields = fieldsToUpdate(t, req.updateMask?.paths ?? []);
    const category = templateCategoryFromPb(t.category);
    if (fields.has("category") && !category) throw DomainError.invalid([{ field: "template.category", description: "must be MARKETING, UTILITY or AUTHENTICATION" }]);
    const template = await updateTemplate(deps, tenantOf(ctx), {
      id: t.id,
      fields,
      values: {
        category: category ?? "UTILITY",
        parameterFormat: parameterFormatFromPb(t.parameterFormat),
        components: componentsFromPb(t.components),
        messageSendTtlSeconds: t.messageSendTtlSeconds,
      },
      validateOnly: req.validateOnly,
    });
    return create(UpdateTemplateResponseSchema, { template: templateToPb(template) });
  };
}

export function listTemplatesHandler(deps: TemplateDeps) {
  return async (req: ListTemplatesRequest, ctx: HandlerContext) => {
    const category = templateCategoryFromPb(req.category);
    const status = templateStatusFromPb(req.status);
    const page = await listTemplates(deps, tenantOf(ctx), {
      pageSize: req.pageSize,
      pageToken: req.pageToken,
      ...(req.accountId ? { accountId: req.accountId } : {}),
      ...(req.name ? { name: req.name } : {}),
      ...(req.language ? { language: req.language } : {}),
      ...(category ? { category } : {}),
      ...(status ? { status } : {}),
    });
    return create(ListTemplatesResponseSchema, { templates: page.templates.map(templateToPb), nextPageToken: page.nextPageToken });
  };
}

export function deleteTemplateHandler(deps: TemplateDeps) {
  return async (req: DeleteTemplateRequest, ctx: HandlerContext) => {
    await deleteTemplate(deps, tenantOf(ctx), req.templateId);
    return create(DeleteTemplateResponseSchema, {});
  };
}

export function syncTemplatesHandler(deps: TemplateDeps) {
  return async (req: SyncTemplatesRequest, ctx: HandlerContext) => {
    const result = await syncTemplates(deps, tenantOf(ctx), req.accountId);
    return create(SyncTemplatesResponseSchema, {
      createdCount: result.created,
      updatedCount: result.updated,
      deletedCount: result.deleted,
      unchangedCount: result.unchanged,
      syncTime: timestampFromDate(result.syncTime),
    });
  };
}

export function renderTemplateHandler(deps: TemplateDeps) {
  return async (req: RenderTemplateRequest, ctx: HandlerContext) => {
    const content = contentFromPb({ case: "template", value: create(TemplateContentSchema, { components: req.components }) }) as SendTemplateContent;
    const target = req.templateId !== "" ? { templateId: req.templateId } : { accountId: req.accountId, name: req.name, language: req.language };
    const rendered = await renderTemplate(deps, tenantOf(ctx), target, content.components);
    return create(RenderTemplateResponseSchema, {
      header: rendered.header,
      body: rendered.body,
      footer: rendered.footer,
      buttons: rendered.buttons,
      text: rendered.text,
      missingParameters: rendered.missing,
      template: templateToPb(rendered.template),
    });
  };
}
