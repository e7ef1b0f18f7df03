export { assertTemplateSendable } from "./check-template-send.js";
export { createTemplate, type CreateTemplateInput } from "./create-template.js";
export { deleteTemplate } from "./delete-template.js";
export { accountForTemplates, type TemplateDeps } from "./deps.js";
export { DEFAULT_TEMPLATE_PAGE_SIZE, getTemplate, listTemplates } from "./read-templates.js";
export { renderTemplate, type RenderTarget } from "./render-template.js";
export { syncTemplates } from "./sync-templates.js";
export { UPDATABLE_TEMPLATE_FIELDS, updateTemplate, type UpdatableTemplateField, type UpdateTemplateInput } from "./update-template.js";
