/**
 * WhatsApp's rules for a template before it is submitted for review
 * (reference §7.6): name and language, lengths, placeholders numbered from 1
 * with no gaps (or valid unique names), an example for every placeholder,
 * button counts, kinds and grouping, and what each category allows. Every
 * problem is reported with the request field it is about
 * (`template.components.body.examples`), so a caller can fix all at once.
 */
import type { FieldViolation } from "../errors.js";
import { charLength } from "../outbound/limits.js";
import { isHttpUrl, Violations } from "../outbound/violations.js";
import { NAMED_KEY, placeholdersOf, POSITIONAL_KEY, type Placeholder } from "./placeholders.js";
import type { ParameterFormat, TemplateButton, TemplateCategory, TemplateComponents, TemplateContent, TemplateExamples } from "./template.js";

export const TEMPLATE_LIMITS = {
  name: 512,
  headerText: 60,
  body: 1024,
  footer: 60,
  buttons: 10,
  quickReplies: 10,
  urlButtons: 2,
  phoneButtons: 1,
  copyCodeButtons: 1,
  buttonText: 25,
  url: 2000,
  phoneNumber: 20,
  copyCodeExample: 15,
  example: 1024,
  ttlMin: 30,
  ttlMax: 900,
  codeExpirationMin: 1,
  codeExpirationMax: 90,
} as const;

const NAME = /^[a-z0-9_]+$/;
const LANGUAGE = /^[a-z]{2,3}([_-][A-Za-z0-9]{2,4})?$/;
const PHONE = /^\+?[1-9][0-9]{6,18}$/;

/** A new template: name and language besides its content. */
export function validateNewTemplate(input: { name: string; language: string } & TemplateContent): FieldViolation[] {
  const v = new Violations();
  if (input.name === "") v.add("template.name", "is required");
  else if (!NAME.test(input.name) || input.name.length > TEMPLATE_LIMITS.name) {
    v.add("template.name", `must be 1 to ${TEMPLATE_LIMITS.name} lowercase letters, digits and underscores`);
  }
  if (input.language === "") v.add("template.language", "is required");
  else if (!LANGUAGE.test(input.language)) v.add("template.language", 'must be a language code such as "en", "en_US" or "pt_BR"');
  return [...v.list, ...validateTemplateContent(input)];
}

/** The content of a template (a create, or an edit's new version). */
export function validateTemplateContent(content: TemplateContent): FieldViolation[] {
  const v = new Violations();
  const { category, components, parameterFormat } = content;
  const auth = category === "AUTHENTICATION";

  if (content.messageSendTtlSeconds !== 0) {
    if (!auth) v.add("template.message_send_ttl_seconds", "is only for AUTHENTICATION templates");
    else if (content.messageSendTtlSeconds < TEMPLATE_LIMITS.ttlMin || content.messageSendTtlSeconds > TEMPLATE_LIMITS.ttlMax) {
      v.add("template.message_send_ttl_seconds", `must be from ${TEMPLATE_LIMITS.ttlMin} to ${TEMPLATE_LIMITS.ttlMax} seconds`);
    }
  }
  if (auth) validateAuthentication(v, components);
  else validateHeaderBodyFooter(v, category, parameterFormat, components);
  validateButtons(v, category, components.buttons);
  return v.list;
}

function validateAuthentication(v: Violations, components: TemplateComponents): void {
  const at = "template.components";
  if (components.header) v.add(`${at}.header`, "is not allowed in AUTHENTICATION templates");
  if (components.body.text !== "") v.add(`${at}.body.text`, "must be empty for AUTHENTICATION templates: WhatsApp supplies the text (\"<code> is your verification code.\")");
  if (components.footer) {
    if (components.footer.text !== "") v.add(`${at}.footer.text`, "is not allowed in AUTHENTICATION templates (use code_expiration_minutes)");
    const minutes = components.footer.codeExpirationMinutes;
    if (minutes !== 0 && (minutes < TEMPLATE_LIMITS.codeExpirationMin || minutes > TEMPLATE_LIMITS.codeExpirationMax)) {
      v.add(`${at}.footer.code_expiration_minutes`, `must be from ${TEMPLATE_LIMITS.codeExpirationMin} to ${TEMPLATE_LIMITS.codeExpirationMax}`);
    }
  }
  const otp = components.buttons.filter((b) => b.kind === "otp").length;
  if (otp !== 1) v.add(`${at}.buttons`, "an AUTHENTICATION template needs exactly one OTP button");
}

function validateHeaderBodyFooter(v: Violations, category: TemplateCategory, format: ParameterFormat, components: TemplateComponents): void {
  const at = "template.components";
  const { header, body, footer } = components;
  if (header) {
    if (header.format === "TEXT") {
      v.text(`${at}.header.text`, header.text, TEMPLATE_LIMITS.headerText, true);
      if (/[\n\r]/.test(header.text)) v.add(`${at}.header.text`, "must be one line");
      const placeholders = placeholdersOf(header.text);
      if (placeholders.length > 1) v.add(`${at}.header.text`, "takes at most one placeholder");
      validatePlaceholders(v, `${at}.header`, placeholders, format, header.examples);
    } else {
      if (header.text !== "") v.add(`${at}.header.text`, `is only for TEXT headers (this one is ${header.format})`);
      if (header.format === "LOCATION") {
        if (category === "AUTHENTICATION") v.add(`${at}.header.format`, "LOCATION headers are for UTILITY and MARKETING templates");
      } else if (header.exampleMedia.trim() === "") {
        v.add(`${at}.header.example_media`, `a ${header.format} header needs a sample (upload handle or URL) for review`);
      }
    }
  }
  if (body.text.trim() === "") v.add(`${at}.body.text`, "is required");
  else {
    v.text(`${at}.body.text`, body.text, TEMPLATE_LIMITS.body);
    const placeholders = placeholdersOf(body.text);
    validatePlaceholders(v, `${at}.body`, placeholders, format, body.examples);
    const trimmed = body.text.trim();
    const first = placeholders[0];
    const last = placeholders.at(-1);
    // Meta refuses a body that starts or ends with a placeholder (error 2388299).
    if ((first && trimmed.startsWith(body.text.slice(first.start, first.end))) || (last && trimmed.endsWith(body.text.slice(last.start, last.end)))) {
      v.add(`${at}.body.text`, "must not start or end with a placeholder");
    }
  }
  if (body.addSecurityRecommendation) v.add(`${at}.body.add_security_recommendation`, "is only for AUTHENTICATION templates");
  if (footer) {
    v.text(`${at}.footer.text`, footer.text, TEMPLATE_LIMITS.footer, true);
    if (placeholdersOf(footer.text).length > 0) v.add(`${at}.footer.text`, "must not contain placeholders");
    if (footer.codeExpirationMinutes !== 0) v.add(`${at}.footer.code_expiration_minutes`, "is only for AUTHENTICATION templates");
  }
}

/** Placeholders well formed, numbered 1…n with no gaps (or unique valid names), and one example each. */
function validatePlaceholders(v: Violations, at: string, placeholders: Placeholder[], format: ParameterFormat, examples: TemplateExamples): void {
  const keys = [...new Set(placeholders.map((p) => p.key))];
  if (format === "POSITIONAL") {
    const bad = keys.filter((k) => !POSITIONAL_KEY.test(k));
    if (bad.length > 0) {
      v.add(`${at}.text`, `POSITIONAL placeholders are {{1}}, {{2}}…; not ${bad.map((k) => `{{${k}}}`).join(", ")}`);
      return;
    }
    const numbers = keys.map(Number).sort((a, b) => a - b);
    const gap = numbers.findIndex((n, i) => n !== i + 1);
    if (gap >= 0) {
      v.add(`${at}.text`, `placeholders must be numbered from {{1}} with no gaps; {{${gap + 1}}} is missing`);
      return;
    }
    if (Object.keys(examples.named).length > 0) v.add(`${at}.examples.named`, "is for NAMED templates; give examples.positional");
    if (examples.positional.length !== numbers.length) {
      v.add(`${at}.examples.positional`, `needs exactly one example per placeholder: ${numbers.length} placeholder(s), ${examples.positional.length} example(s)`);
    }
    examples.positional.forEach((example, i) => checkExample(v, `${at}.examples.positional[${i}]`, example));
  } else {
    const bad = keys.filter((k) => !NAMED_KEY.test(k));
    if (bad.length > 0) {
      v.add(`${at}.text`, `NAMED placeholders are lowercase letters, digits and underscores, e.g. {{first_name}}; not ${bad.map((k) => `{{${k}}}`).join(", ")}`);
      return;
    }
    if (keys.length !== placeholders.length) v.add(`${at}.text`, "NAMED placeholders must be unique");
    if (examples.positional.length > 0) v.add(`${at}.examples.positional`, "is for POSITIONAL templates; give examples.named");
    for (const key of keys) {
      const example = examples.named[key];
      if (example === undefined) v.add(`${at}.examples.named`, `needs an example for {{${key}}}`);
      else checkExample(v, `${at}.examples.named["${key}"]`, example);
    }
    for (const extra of Object.keys(examples.named).filter((k) => !keys.includes(k))) {
      v.add(`${at}.examples.named["${extra}"]`, `names no placeholder of the text`);
    }
  }
}

function checkExample(v: Violations, field: string, example: string): void {
  if (example.trim() === "") v.add(field, "must not be empty");
  else if (charLength(example) > TEMPLATE_LIMITS.example) v.add(field, `must be at most ${TEMPLATE_LIMITS.example} characters`);
}

function validateButtons(v: Violations, category: TemplateCategory, buttons: readonly TemplateButton[]): void {
  const at = "template.components.buttons";
  if (buttons.length > TEMPLATE_LIMITS.buttons) v.add(at, `takes at most ${TEMPLATE_LIMITS.buttons} buttons (got ${buttons.length})`);
  const count = (kind: TemplateButton["kind"]) => buttons.filter((b) => b.kind === kind).length;
  const limits: [TemplateButton["kind"], number, string][] = [
    ["quick_reply", TEMPLATE_LIMITS.quickReplies, "quick-reply"],
    ["url", TEMPLATE_LIMITS.urlButtons, "URL"],
    ["phone_number", TEMPLATE_LIMITS.phoneButtons, "phone-number"],
    ["copy_code", TEMPLATE_LIMITS.copyCodeButtons, "copy-code"],
    ["otp", 1, "OTP"],
  ];
  for (const [kind, max, label] of limits) {
    if (count(kind) > max) v.add(at, `takes at most ${max} ${label} button${max === 1 ? "" : "s"} (got ${count(kind)})`);
  }
  // Quick replies are grouped: all together, before or after the others.
  const quick = buttons.map((b) => b.kind === "quick_reply");
  const firstQuick = quick.indexOf(true);
  const lastQuick = quick.lastIndexOf(true);
  if (firstQuick >= 0 && quick.slice(firstQuick, lastQuick + 1).includes(false)) {
    v.add(at, "quick-reply buttons must be grouped together, before or after the other buttons");
  }

  buttons.forEach((button, i) => {
    const field = `${at}[${i}]`;
    if (category === "AUTHENTICATION" && button.kind !== "otp") v.add(field, "AUTHENTICATION templates take only an OTP button");
    if (category !== "AUTHENTICATION" && button.kind === "otp") v.add(field, "OTP buttons are only for AUTHENTICATION templates");
    if (category !== "MARKETING" && button.kind === "copy_code") v.add(field, "copy-code (coupon) buttons are only for MARKETING templates");
    switch (button.kind) {
      case "quick_reply":
        v.text(`${field}.quick_reply.text`, button.text, TEMPLATE_LIMITS.buttonText, true);
        break;
      case "url": {
        v.text(`${field}.url.text`, button.text, TEMPLATE_LIMITS.buttonText, true);
        const placeholders = placeholdersOf(button.url);
        const base = button.url.replace(/\{\{[^{}]*\}\}/g, "x");
        if (charLength(button.url) > TEMPLATE_LIMITS.url) v.add(`${field}.url.url`, `must be at most ${TEMPLATE_LIMITS.url} characters`);
        else if (!isHttpUrl(base)) v.add(`${field}.url.url`, "must be an http:// or https:// URL");
        if (placeholders.length > 1 || (placeholders.length === 1 && (placeholders[0]!.key !== "1" || placeholders[0]!.end !== button.url.length))) {
          v.add(`${field}.url.url`, "may hold one placeholder only, {{1}}, at its very end");
        } else if (placeholders.length === 1) {
          if (button.example.trim() === "") v.add(`${field}.url.example`, "is required when the URL has a placeholder: the full URL with it filled");
          else if (!isHttpUrl(button.example)) v.add(`${field}.url.example`, "must be an http:// or https:// URL");
        } else if (button.example !== "") v.add(`${field}.url.example`, "is only for URLs with a placeholder");
        break;
      }
      case "phone_number":
        v.text(`${field}.phone_number.text`, button.text, TEMPLATE_LIMITS.buttonText, true);
        if (!PHONE.test(button.phoneNumber)) v.add(`${field}.phone_number.phone_number`, "must be a phone number in E.164 (e.g. +14155552671)");
        break;
      case "copy_code":
        v.text(`${field}.copy_code.example`, button.example, TEMPLATE_LIMITS.copyCodeExample, true);
        break;
      case "otp":
        v.text(`${field}.otp.text`, button.text, TEMPLATE_LIMITS.buttonText);
        if (button.otpType !== "COPY_CODE" && button.supportedApps.length === 0) {
          v.add(`${field}.otp.supported_apps`, `${button.otpType} buttons need the Android apps that may receive the code`);
        }
        break;
    }
  });
}
