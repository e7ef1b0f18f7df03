import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";

import { UPDATABLE_TEMPLATE_FIELDS, updateTemplate, type TemplateDeps, type UpdatableTemplateField } from "../../../app/templates/index.js";
import { DomainError } from "../../../domain/errors.js";
import {
  UpdateTemplateResponseSchema,
  type Template as PbTemplate,
  type TemplateService,
  type UpdateTemplateRequest,
} from "../../../../gen/whatsapp/v1/template_pb.js";
import { parameterFormatFromPb, templateCategoryFromPb } from "../../events/template-events-pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";
import { componentsFromPb, templateToPb } from "./template-mapper.js";

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

export function updateTemplateRpc(deps: TemplateDeps): RpcImpl<typeof TemplateService, "updateTemplate"> {
  return {
    async updateTemplate(req: UpdateTemplateRequest, ctx: HandlerContext) {
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
    },
  };
}
