import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";

import { listTemplates, type TemplateDeps } from "../../../app/templates/index.js";
import { ListTemplatesResponseSchema, type ListTemplatesRequest, type TemplateService } from "../../../../gen/whatsapp/v1/template_pb.js";
import { templateCategoryFromPb, templateStatusFromPb } from "../../events/template-events-pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";
import { templateToPb } from "./template-mapper.js";

export function listTemplatesRpc(deps: Pick<TemplateDeps, "templates">): RpcImpl<typeof TemplateService, "listTemplates"> {
  return {
    async listTemplates(req: ListTemplatesRequest, ctx: HandlerContext) {
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
    },
  };
}
