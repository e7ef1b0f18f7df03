export * from "./template.js";
export { distinctKeys, fillPlaceholders, placeholdersOf, requiredParameters, type Placeholder, type RequiredParameters } from "./placeholders.js";
export { TEMPLATE_LIMITS, validateNewTemplate, validateTemplateContent } from "./validate.js";
export { checkTemplateParameters, type ApprovedContent } from "./send-check.js";
export { renderTemplate, type RenderedTemplate } from "./render.js";
export { applyProviderView, canonicalJson, type ProviderView, type TemplateChange } from "./reconcile.js";
