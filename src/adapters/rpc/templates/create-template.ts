import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";

import { createTemplate, type TemplateDeps } from "../../../app/templates/index.js";
import { DomainError } from "../../../domain/errors.js";
import { CreateTemplateResponseSchema, type CreateTemplateRequest, type TemplateService } from "../../../../gen/whatsapp/v1/template_pb.js";
import { parameterFormatFromPb, templateCategoryFromPb } from "../../events/template-events-pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";
import { componentsFromPb, templateToPb } from "./template-mapper.js";

export function createTemplateRpc(deps: TemplateDeps): RpcImpl<typeof TemplateService, "createTemplate"> {
  return {
    async createTemplate(req: CreateTemplateRequest, ctx: HandlerContext) {
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
    },
  };
}
