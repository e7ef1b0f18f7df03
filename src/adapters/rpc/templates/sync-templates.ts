import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext } from "@connectrpc/connect";

import { syncTemplates, type TemplateDeps } from "../../../app/templates/index.js";
import { SyncTemplatesResponseSchema, type SyncTemplatesRequest, type TemplateService } from "../../../../gen/whatsapp/v1/template_pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";

export function syncTemplatesRpc(deps: TemplateDeps): RpcImpl<typeof TemplateService, "syncTemplates"> {
  return {
    async syncTemplates(req: SyncTemplatesRequest, ctx: HandlerContext) {
      const result = await syncTemplates(deps, tenantOf(ctx), req.accountId);
      return create(SyncTemplatesResponseSchema, {
        createdCount: result.created,
        updatedCount: result.updated,
        deletedCount: result.deleted,
        unchangedCount: result.unchanged,
        syncTime: timestampFromDate(result.syncTime),
      });
    },
  };
}
