import type { TemplateComponent, TemplateContent, TemplateParameter } from "./content.js";
import { charLength, LIMITS } from "./limits.js";
import { validateLocation, validateMediaSource } from "./validate-common.js";
import type { Violations } from "./violations.js";

const L = LIMITS.template;

/**
 * Shapes of a template send (reference §5.2, §7.6): which parameter kinds
 * each component takes, one header and one body at most, one button
 * component per (sub_type, index), and positional and named parameters not
 * mixed. Whether the parameters match the approved template (their count,
 * their names) is for the template work, which knows the template.
 */
export function validateTemplate(v: Violations, template: TemplateContent): void {
  if (!/^[a-z0-9_]+$/.test(template.name) || template.name.length > L.name) {
    v.add("template.name", "must be 1 to 512 lowercase letters, digits and underscores");
  }
  if (!/^[a-z]{2,3}([_-][A-Za-z0-9]{2,4})?$/.test(template.language)) {
    v.add("template.language", 'must be a language code such as "en", "en_US" or "pt_BR"');
  }
  v.count("template.components", template.components.length, 0, L.components, "components");

  const seen = new Set<string>();
  template.components.forEach((component, i) => {
    const at = `template.components[${i}]`;
    const identity = component.type === "button" ? `button:${component.subType}:${component.index}` : component.type;
    if (seen.has(identity)) v.add(at, component.type === "button" ? `repeats the ${component.subType} button at index ${component.index}` : `repeats the ${component.type} component`);
    seen.add(identity);
    validateComponent(v, at, component);
  });

  // Meta reads a template's placeholders either by position or by name, never both.
  const placeholders = template.components.filter((c) => c.type !== "button").flatMap((c) => c.parameters).filter(isPlaceholderValue);
  const named = placeholders.filter((p) => p.parameterName !== "").length;
  if (named > 0 && named < placeholders.length) v.add("template.components", "parameters must be all named (parameter_name) or all positional");
}

function validateComponent(v: Violations, at: string, component: TemplateComponent): void {
  v.count(`${at}.parameters`, component.parameters.length, 0, L.parametersPerComponent, "parameters");
  if (component.type !== "button") {
    if (component.subType !== undefined) v.add(`${at}.sub_type`, "is only allowed for button components");
    if (component.index !== 0) v.add(`${at}.index`, "is only allowed for button components");
  } else if (component.subType === undefined) v.add(`${at}.sub_type`, "is required for button components");
  else if (component.index > L.maxButtonIndex) v.add(`${at}.index`, `must be between 0 and ${L.maxButtonIndex}`);

  const kinds = component.parameters.map((p) => p.value.kind);
  switch (component.type) {
    case "header": {
      const media = kinds.filter((k) => k !== "text").length;
      if (media > 0 && kinds.length > 1) v.add(`${at}.parameters`, "a media or location header takes exactly one parameter");
      else if (kinds.length > L.headerTextParameters) v.add(`${at}.parameters`, "a text header takes at most one parameter");
      allowKinds(v, at, component.parameters, ["text", "image", "video", "document", "location"]);
      break;
    }
    case "body":
      allowKinds(v, at, component.parameters, ["text", "currency", "date_time"]);
      break;
    case "button": {
      const expected = { quick_reply: "payload", url: "text", copy_code: "coupon_code" } as const;
      const kind = component.subType && expected[component.subType];
      if (kind) {
        if (component.parameters.length !== 1) v.add(`${at}.parameters`, `a ${component.subType} button takes exactly one ${kind} parameter`);
        allowKinds(v, at, component.parameters, [kind]);
      }
      break;
    }
  }
  component.parameters.forEach((parameter, j) => validateParameter(v, `${at}.parameters[${j}]`, parameter, component));
}

function allowKinds(v: Violations, at: string, parameters: readonly TemplateParameter[], allowed: readonly string[]): void {
  parameters.forEach((p, j) => {
    if (!allowed.includes(p.value.kind)) v.add(`${at}.parameters[${j}].${fieldOf(p.value.kind)}`, `is not allowed here (allowed: ${allowed.map(fieldOf).join(", ")})`);
  });
}

function fieldOf(kind: string): string {
  return kind === "coupon_code" ? "coupon_code" : kind;
}

function isPlaceholderValue(p: TemplateParameter): boolean {
  return p.value.kind === "text" || p.value.kind === "currency" || p.value.kind === "date_time";
}

function validateParameter(v: Violations, at: string, parameter: TemplateParameter, component: TemplateComponent): void {
  if (parameter.parameterName !== "" && !/^[a-z_][a-z0-9_]*$/.test(parameter.parameterName)) {
    v.add(`${at}.parameter_name`, "must be lowercase letters, digits and underscores, not starting with a digit");
  }
  const value = parameter.value;
  switch (value.kind) {
    case "text":
      v.text(`${at}.text`, value.text, L.textParameter, true);
      // Meta refuses header/body parameter text with new lines, tabs or more
      // than 4 consecutive spaces (error 132018); URL suffixes are percent-encoded.
      if (component.type !== "button" && /[\n\t]| {5,}/.test(value.text)) {
        v.add(`${at}.text`, "must not contain new lines, tabs or more than 4 consecutive spaces");
      }
      break;
    case "currency":
      v.text(`${at}.currency.fallback_value`, value.fallbackValue, L.currencyFallback, true);
      if (!/^[A-Z]{3}$/.test(value.code)) v.add(`${at}.currency.code`, "must be an ISO 4217 code such as USD");
      if (!Number.isSafeInteger(value.amount1000)) v.add(`${at}.currency.amount_1000`, "must be an integer (amount × 1000)");
      break;
    case "date_time":
      v.text(`${at}.date_time.fallback_value`, value.fallbackValue, L.dateTimeFallback, true);
      break;
    case "image":
    case "video":
    case "document":
      validateMediaSource(v, `${at}.${value.kind}`, value.source);
      break;
    case "location":
      validateLocation(v, `${at}.location`, value);
      break;
    case "payload":
      v.text(`${at}.payload`, value.payload, L.payload, true);
      break;
    case "coupon_code":
      v.text(`${at}.coupon_code`, value.couponCode, L.couponCode, true);
      if (charLength(value.couponCode) > 0 && /\s/.test(value.couponCode)) v.add(`${at}.coupon_code`, "must not contain spaces");
      break;
  }
}
