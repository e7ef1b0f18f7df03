import type { ServiceImpl } from "@connectrpc/connect";

import type { TemplateDeps } from "../../../app/templates/index.js";
import type { AppContext } from "../../../context.js";
import type { TemplateService } from "../../../../gen/whatsapp/v1/template_pb.js";
import {
  createTemplateHandler,
  deleteTemplateHandler,
  getTemplateHandler,
  listTemplatesHandler,
  renderTemplateHandler,
  syncTemplatesHandler,
  updateTemplateHandler,
} from "./handlers.js";

/** TemplateService: templates validated, submitted for review, versioned, synced back and previewed. */
export function templateService(app: AppContext): ServiceImpl<typeof TemplateService> {
  const deps: TemplateDeps = { templates: app.templates, accounts: app.accounts, templateProviders: app.templateProviders, newId: app.newId, now: app.now };
  return {
    createTemplate: createTemplateHandler(deps),
    getTemplate: getTemplateHandler(deps),
    updateTemplate: updateTemplateHandler(deps),
    listTemplates: listTemplatesHandler(deps),
    deleteTemplate: deleteTemplateHandler(deps),
    syncTemplates: syncTemplatesHandler(deps),
    renderTemplate: renderTemplateHandler(deps),
  };
}
