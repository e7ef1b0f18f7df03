import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";

import { getTemplate, type TemplateDeps } from "../../../app/templates/index.js";
import { GetTemplateResponseSchema, type GetTemplateRequest, type TemplateService } from "../../../../gen/whatsapp/v1/template_pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";
import { templateToPb } from "./template-mapper.js";

export function getTemplateRpc(deps: Pick<TemplateDeps, "templates">): RpcImpl<typeof TemplateService, "getTemplate"> {
  return {
    async getTemplate(req: GetTemplateRequest, ctx: HandlerContext) {
      return create(GetTemplateResponseSchema, { template: templateToPb(await getTemplate(deps, tenantOf(ctx), req.templateId)) });
    },
  };
}
