/**
 * Does a template send fill the approved template exactly? Meta answers a
 * mismatch only after the send (132000 "number of parameters does not
 * match", 132012 "parameter format mismatch"); checking here refuses it
 * before anything is queued, naming the component that is off.
 */
import type { FieldViolation } from "../errors.js";
import type { TemplateComponent, TemplateContent as SendTemplateContent } from "../outbound/content.js";
import { requiredParameters } from "./placeholders.js";
import type { ParameterFormat, TemplateCategory, TemplateComponents } from "./template.js";

export interface ApprovedContent {
  category: TemplateCategory;
  parameterFormat: ParameterFormat;
  components: TemplateComponents;
}

const PLACEHOLDER_KINDS = new Set(["text", "currency", "date_time"]);

export function checkTemplateParameters(approved: ApprovedContent, send: SendTemplateContent): FieldViolation[] {
  const violations: FieldViolation[] = [];
  const add = (field: string, description: string) => violations.push({ field, description });
  const find = (type: TemplateComponent["type"]) => {
    const index = send.components.findIndex((c) => c.type === type);
    return index < 0 ? undefined : { index, component: send.components[index]! };
  };
  const at = (index: number) => `template.components[${index}].parameters`;
  const { components, parameterFormat } = approved;
  const auth = approved.category === "AUTHENTICATION";
  const required = requiredParameters(components, parameterFormat);

  // Header: a text header's placeholder, or the media / location of a media header.
  const header = find("header");
  const given = header?.component.parameters ?? [];
  const templateHeader = components.header;
  if (!templateHeader || templateHeader.format === "TEXT") {
    if (given.length !== required.header.length) {
      const expected = required.header.length === 0 ? "no header parameters" : `${required.header.length} header parameter(s) (${list(required.header)})`;
      add(header ? at(header.index) : "template.components", `the approved template takes ${expected}; ${given.length} given`);
    } else if (header) checkNames(add, at(header.index), given, required.header, parameterFormat);
  } else {
    const kind = templateHeader.format.toLowerCase();
    if (given.length !== 1 || given[0]!.value.kind !== kind) {
      add(header ? at(header.index) : "template.components", `the approved template has a ${templateHeader.format} header: give a header component with one ${kind} parameter`);
    }
  }

  // Body: every placeholder filled, nothing more (AUTHENTICATION: the code).
  const body = find("body");
  const bodyGiven = body?.component.parameters ?? [];
  const bodyKeys = auth ? ["1"] : required.body;
  const bodyFormat = auth ? "POSITIONAL" : parameterFormat;
  if (bodyGiven.length !== bodyKeys.length) {
    const expected = auth ? "1 body parameter (the code)" : bodyKeys.length === 0 ? "no body parameters" : `${bodyKeys.length} body parameter(s) (${list(bodyKeys)})`;
    add(body ? at(body.index) : "template.components", `the approved template takes ${expected}; ${bodyGiven.length} given`);
  } else if (body) checkNames(add, at(body.index), bodyGiven, bodyKeys, bodyFormat);

  // Buttons: URL buttons ending in a placeholder need their suffix (an OTP button is a URL button at send time).
  const urlButtons = auth ? components.buttons.flatMap((b, i) => (b.kind === "otp" ? [i] : [])) : required.urlButtons;
  for (const index of urlButtons) {
    const found = send.components.findIndex((c) => c.type === "button" && c.subType === "url" && c.index === index);
    if (found < 0) add("template.components", `the approved template's button ${index} is a URL with a placeholder: give a url button component with index ${index} and one text parameter`);
  }
  send.components.forEach((component, i) => {
    if (component.type !== "button") return;
    const button = components.buttons[component.index];
    const field = `template.components[${i}]`;
    if (!button) return add(`${field}.index`, `the approved template has no button ${component.index}`);
    const matches =
      (component.subType === "url" && (button.kind === "url" || button.kind === "otp")) ||
      (component.subType === "quick_reply" && button.kind === "quick_reply") ||
      (component.subType === "copy_code" && button.kind === "copy_code");
    if (!matches) return add(`${field}.sub_type`, `button ${component.index} of the approved template is a ${button.kind.replace("_", "-")} button`);
    if (component.subType === "url" && !urlButtons.includes(component.index)) add(`${field}.parameters`, `the URL of button ${component.index} has no placeholder to fill`);
  });
  return violations;
}

function checkNames(
  add: (field: string, description: string) => void,
  field: string,
  given: TemplateComponent["parameters"],
  keys: readonly string[],
  format: ParameterFormat,
): void {
  given.forEach((p, j) => {
    if (!PLACEHOLDER_KINDS.has(p.value.kind)) add(`${field}[${j}]`, "fills a placeholder: text, currency or date_time");
  });
  if (format === "POSITIONAL") {
    if (given.some((p) => p.parameterName !== "")) add(field, "the approved template is POSITIONAL: parameters go in order, without parameter_name");
    return;
  }
  const names = given.map((p) => p.parameterName);
  const missing = keys.filter((k) => !names.includes(k));
  if (missing.length > 0) add(field, `the approved template is NAMED: missing ${list(missing)}`);
  const unknown = names.filter((n) => !keys.includes(n));
  if (unknown.length > 0) add(field, `the approved template has no placeholder ${list(unknown)}`);
}

function list(keys: readonly string[]): string {
  return keys.map((k) => `{{${k}}}`).join(", ");
}
