import type { ServiceImpl } from "@connectrpc/connect";

import type { TemplateDeps } from "../../../app/templates/index.js";
import type { TemplateService } from "../../../../gen/whatsapp/v1/template_pb.js";
import { createTemplateRpc } from "./create-template.js";
import { deleteTemplateRpc } from "./delete-template.js";
import { getTemplateRpc } from "./get-template.js";
import { listTemplatesRpc } from "./list-templates.js";
import { renderTemplateRpc } from "./render-template.js";
import { syncTemplatesRpc } from "./sync-templates.js";
import { updateTemplateRpc } from "./update-template.js";

/** What TemplateService's handlers use: the template store, accounts, the providers' template APIs, ids and the clock. */
export type TemplateServiceDeps = TemplateDeps;

/** TemplateService: templates validated, submitted for review, versioned, synced back and previewed — one file per RPC. */
export function templateService(deps: TemplateServiceDeps): ServiceImpl<typeof TemplateService> {
  return {
    ...createTemplateRpc(deps),
    ...getTemplateRpc(deps),
    ...updateTemplateRpc(deps),
    ...listTemplatesRpc(deps),
    ...deleteTemplateRpc(deps),
    ...syncTemplatesRpc(deps),
    ...renderTemplateRpc(deps),
  };
}
