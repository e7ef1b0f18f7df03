import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";

import { deleteTemplate, type TemplateDeps } from "../../../app/templates/index.js";
import { DeleteTemplateResponseSchema, type DeleteTemplateRequest, type TemplateService } from "../../../../gen/whatsapp/v1/template_pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";

export function deleteTemplateRpc(deps: TemplateDeps): RpcImpl<typeof TemplateService, "deleteTemplate"> {
  return {
    async deleteTemplate(req: DeleteTemplateRequest, ctx: HandlerContext) {
      await deleteTemplate(deps, tenantOf(ctx), req.templateId);
      return create(DeleteTemplateResponseSchema, {});
    },
  };
}
