/**
 * A preview of a template with its parameters filled: the text a user
 * would see, and which placeholders stayed empty (Meta would refuse the
 * send with 132000 while any does).
 */
import type { TemplateComponent, TemplateParameterValue } from "../outbound/content.js";
import { fillPlaceholders, requiredParameters } from "./placeholders.js";
import type { ParameterFormat, TemplateCategory, TemplateComponents } from "./template.js";

export interface RenderedTemplate {
  header: string;
  body: string;
  footer: string;
  /** Labels; URL buttons as "label: url". */
  buttons: string[];
  /** Header, body and footer joined by blank lines. */
  text: string;
  /** Placeholders no parameter filled: "1", "first_name", "button[0]". */
  missing: string[];
}

const SECURITY = "For your security, do not share this code.";

export function renderTemplate(
  template: { category: TemplateCategory; parameterFormat: ParameterFormat; components: TemplateComponents },
  parameters: readonly TemplateComponent[],
): RenderedTemplate {
  const { components, parameterFormat } = template;
  const auth = template.category === "AUTHENTICATION";
  const missing: string[] = [];
  const valuesOf = (type: TemplateComponent["type"]) => parameters.find((c) => c.type === type)?.parameters ?? [];
  const filler = (type: "header" | "body", format: ParameterFormat) => {
    const given = valuesOf(type);
    return (key: string): string | undefined => {
      const parameter = format === "NAMED" ? given.find((p) => p.parameterName === key) : given[Number(key) - 1];
      const value = parameter && textOf(parameter.value);
      if (value === undefined && !missing.includes(key)) missing.push(key);
      return value;
    };
  };

  const header = components.header?.format === "TEXT" ? fillPlaceholders(components.header.text, filler("header", parameterFormat)) : "";
  let body: string;
  if (auth) {
    const code = filler("body", "POSITIONAL")("1") ?? "{{1}}";
    body = `*${code}* is your verification code.${components.body.addSecurityRecommendation ? ` ${SECURITY}` : ""}`;
  } else body = fillPlaceholders(components.body.text, filler("body", parameterFormat));
  const minutes = components.footer?.codeExpirationMinutes ?? 0;
  const footer = auth ? (minutes > 0 ? `This code expires in ${minutes} minutes.` : "") : (components.footer?.text ?? "");

  const urlButtons = new Set(requiredParameters(components, parameterFormat).urlButtons);
  const buttons = components.buttons.map((button, index) => {
    switch (button.kind) {
      case "quick_reply":
        return button.text;
      case "phone_number":
        return `${button.text}: ${button.phoneNumber}`;
      case "copy_code":
        return "Copy offer code";
      case "otp":
        return button.text || "Copy code";
      case "url": {
        if (!urlButtons.has(index)) return `${button.text}: ${button.url}`;
        const suffix = parameters.find((c) => c.type === "button" && c.subType === "url" && c.index === index)?.parameters[0];
        const value = suffix && textOf(suffix.value);
        if (value === undefined) missing.push(`button[${index}]`);
        return `${button.text}: ${fillPlaceholders(button.url, () => value)}`;
      }
    }
  });
  const text = [header, body, footer].filter((part) => part !== "").join("\n\n");
  return { header, body, footer, buttons, text, missing };
}

function textOf(value: TemplateParameterValue): string | undefined {
  switch (value.kind) {
    case "text":
      return value.text;
    case "currency":
    case "date_time":
      return value.fallbackValue;
    default:
      return undefined;
  }
}
