/**
 * Meta's template management API (reference §8): create
 * (`POST /{waba_id}/message_templates`), edit (`POST /{template_id}`),
 * delete (`DELETE /{waba_id}/message_templates?name=…&hsm_id=…`) and list
 * (`GET /{waba_id}/message_templates`, every page). Low volume, so plain
 * `fetch` with a timeout; answers and errors read like the send path's
 * (graphError). Also the mapping between our template content and Meta's
 * `components` JSON, both ways.
 */
import { emptyExamples, parseTemplateCategory, parseTemplateStatus } from "../../../domain/templates/index.js";
import type {
  OtpType,
  ParameterFormat,
  TemplateButton,
  TemplateCategory,
  TemplateComponents,
  TemplateContent,
  TemplateExamples,
  TemplateHeader,
} from "../../../domain/templates/index.js";
import type { NewProviderTemplate, ProviderCall, RemoteTemplate, TemplateEditPart, TemplateProvider, TemplateSubmission } from "../../../ports/template-provider.js";
import type { ProviderAccount } from "../../../ports/whatsapp-provider.js";
import { graphError } from "./graph-client.js";
import { list, number, record, text, type JsonObject } from "./json-reader.js";

export interface MetaTemplateClientOptions {
  graphUrl: string;
  graphVersion: string;
  /** Per call. Default 10 s. */
  timeoutMs?: number;
  /** Templates per page when listing. Default 100. */
  pageSize?: number;
  /** Pages followed at most when listing (a guard against a paging loop). Default 100. */
  maxPages?: number;
}

export class MetaTemplateClient implements TemplateProvider {
  readonly #base: string;
  readonly #timeoutMs: number;
  readonly #pageSize: number;
  readonly #maxPages: number;

  constructor(options: MetaTemplateClientOptions) {
    this.#base = `${options.graphUrl.replace(/\/+$/, "")}/${options.graphVersion}`;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#pageSize = options.pageSize ?? 100;
    this.#maxPages = options.maxPages ?? 100;
  }

  async create(account: ProviderAccount, template: NewProviderTemplate): Promise<ProviderCall<TemplateSubmission>> {
    const body = {
      name: template.name,
      language: template.language,
      category: template.category,
      ...(template.parameterFormat === "NAMED" ? { parameter_format: "named" } : {}),
      components: toMetaComponents(template),
      ...(template.messageSendTtlSeconds > 0 ? { message_send_ttl_seconds: template.messageSendTtlSeconds } : {}),
    };
    const answer = await this.#call(account, "POST", `${encodeURIComponent(account.wabaId)}/message_templates`, body);
    if (!answer.ok) return answer;
    const json = record(answer.value);
    const id = text(json?.id) ?? "";
    if (id === "") return { ok: false, kind: "unavailable", error: { code: 0, title: "Unreadable answer", details: "the create answer has no template id", httpStatus: 200 } };
    return {
      ok: true,
      value: { id, status: parseTemplateStatus(text(json?.status) ?? "") ?? "PENDING", category: parseTemplateCategory(text(json?.category) ?? "") },
    };
  }

  /**
   * `POST /{template_id}`: Meta edits the category and the components in
   * separate calls (`{"category": …}`, `{"components": […]}` replacing them
   * all, with the parameter format and TTL). The category goes first; if the
   * components call then fails, the category change stays at Meta and the
   * next sync brings it here.
   */
  async edit(account: ProviderAccount, providerTemplateId: string, template: NewProviderTemplate, parts: readonly TemplateEditPart[] = ["category", "components"]): Promise<ProviderCall<void>> {
    const bodies: JsonObject[] = [];
    if (parts.includes("category")) bodies.push({ category: template.category });
    if (parts.includes("components")) {
      bodies.push({
        ...(template.parameterFormat === "NAMED" ? { parameter_format: "named" } : {}),
        components: toMetaComponents(template),
        ...(template.messageSendTtlSeconds > 0 ? { message_send_ttl_seconds: template.messageSendTtlSeconds } : {}),
      });
    }
    for (const body of bodies) {
      const answer = await this.#call(account, "POST", encodeURIComponent(providerTemplateId), body);
      if (!answer.ok) return answer;
    }
    return { ok: true, value: undefined };
  }

  async delete(account: ProviderAccount, name: string, providerTemplateId: string): Promise<ProviderCall<void>> {
    const query = new URLSearchParams({ name, ...(providerTemplateId ? { hsm_id: providerTemplateId } : {}) });
    const answer = await this.#call(account, "DELETE", `${encodeURIComponent(account.wabaId)}/message_templates?${query.toString()}`);
    return answer.ok ? { ok: true, value: undefined } : answer;
  }

  async list(account: ProviderAccount): Promise<ProviderCall<RemoteTemplate[]>> {
    const found: RemoteTemplate[] = [];
    let path: string | undefined = `${encodeURIComponent(account.wabaId)}/message_templates?limit=${this.#pageSize}`;
    for (let page = 0; path !== undefined; page++) {
      if (page >= this.#maxPages) {
        return { ok: false, kind: "unavailable", error: { code: 0, title: "Too many pages", details: `more than ${this.#maxPages} pages of templates`, httpStatus: 200 } };
      }
      const answer = await this.#call(account, "GET", path);
      if (!answer.ok) return answer;
      const json = record(answer.value);
      for (const item of list(json?.data)) {
        const template = fromMetaTemplate(record(item));
        if (template) found.push(template);
      }
      const paging = record(json?.paging);
      const after = text(record(paging?.cursors)?.after);
      // `next` is present only while there is a next page; follow it by its cursor so the base URL stays ours.
      path = text(paging?.next) && after ? `${encodeURIComponent(account.wabaId)}/message_templates?limit=${this.#pageSize}&after=${encodeURIComponent(after)}` : undefined;
    }
    return { ok: true, value: found };
  }

  async #call(account: ProviderAccount, method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<ProviderCall<unknown>> {
    let response: Response;
    try {
      response = await fetch(`${this.#base}/${path}`, {
        method,
        headers: {
          authorization: `Bearer ${account.accessToken ?? ""}`,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const details = error instanceof Error ? error.message : String(error);
      return { ok: false, kind: "unavailable", error: { code: 0, title: "Network error", details, httpStatus: 0 } };
    }
    const bodyText = await response.text().catch(() => "");
    let json: unknown;
    try {
      json = bodyText === "" ? undefined : JSON.parse(bodyText);
    } catch {
      json = undefined;
    }
    if (response.ok) return { ok: true, value: json };
    const error = graphError(response.status, json, bodyText);
    // 4xx: Meta read the request and said no; 5xx / error 1, 2: it could not answer.
    const unavailable = response.status >= 500 || response.status === 429 || error.code === 1 || error.code === 2 || error.code === 4;
    return { ok: false, kind: unavailable ? "unavailable" : "rejected", error };
  }
}

/** Our content → Meta's `components` array. */
export function toMetaComponents(template: Pick<TemplateContent, "category" | "parameterFormat" | "components">): JsonObject[] {
  const { components, parameterFormat } = template;
  const out: JsonObject[] = [];
  if (template.category === "AUTHENTICATION") {
    out.push({ type: "BODY", ...(components.body.addSecurityRecommendation ? { add_security_recommendation: true } : {}) });
    if (components.footer && components.footer.codeExpirationMinutes > 0) out.push({ type: "FOOTER", code_expiration_minutes: components.footer.codeExpirationMinutes });
  } else {
    const header = components.header;
    if (header) {
      if (header.format === "TEXT") {
        out.push({ type: "HEADER", format: "TEXT", text: header.text, ...examplesOf("header", header.text, header.examples, parameterFormat) });
      } else if (header.format === "LOCATION") out.push({ type: "HEADER", format: "LOCATION" });
      else out.push({ type: "HEADER", format: header.format, ...(header.exampleMedia ? { example: { header_handle: [header.exampleMedia] } } : {}) });
    }
    out.push({ type: "BODY", text: components.body.text, ...examplesOf("body", components.body.text, components.body.examples, parameterFormat) });
    if (components.footer) out.push({ type: "FOOTER", text: components.footer.text });
  }
  if (components.buttons.length > 0) out.push({ type: "BUTTONS", buttons: components.buttons.map(toMetaButton) });
  return out;
}

function examplesOf(part: "header" | "body", textValue: string, examples: TemplateExamples, format: ParameterFormat): JsonObject {
  if (!/\{\{[^{}]*\}\}/.test(textValue)) return {};
  if (format === "NAMED") {
    const named = Object.entries(examples.named).map(([param_name, example]) => ({ param_name, example }));
    return { example: { [`${part}_text_named_params`]: named } };
  }
  return { example: part === "header" ? { header_text: examples.positional } : { body_text: [examples.positional] } };
}

function toMetaButton(button: TemplateButton): JsonObject {
  switch (button.kind) {
    case "quick_reply":
      return { type: "QUICK_REPLY", text: button.text };
    case "url":
      return { type: "URL", text: button.text, url: button.url, ...(button.example ? { example: [button.example] } : {}) };
    case "phone_number":
      return { type: "PHONE_NUMBER", text: button.text, phone_number: button.phoneNumber };
    case "copy_code":
      return { type: "COPY_CODE", example: button.example };
    case "otp":
      return {
        type: "OTP",
        otp_type: button.otpType,
        ...(button.text ? { text: button.text } : {}),
        ...(button.supportedApps.length > 0 ? { supported_apps: button.supportedApps.map((a) => ({ package_name: a.packageName, signature_hash: a.signatureHash })) } : {}),
      };
  }
}

/** One entry of Meta's template list → ours; undefined when it lacks what identifies it. */
export function fromMetaTemplate(json: JsonObject | undefined): RemoteTemplate | undefined {
  if (!json) return undefined;
  const id = text(json.id) ?? "";
  const name = text(json.name) ?? "";
  const language = text(json.language) ?? "";
  const category = parseTemplateCategory(text(json.category) ?? "") ?? "UTILITY";
  const status = parseTemplateStatus(text(json.status) ?? "");
  if (id === "" || name === "" || language === "" || !status) return undefined;
  const parameterFormat: ParameterFormat = (text(json.parameter_format) ?? "").toUpperCase() === "NAMED" ? "NAMED" : "POSITIONAL";
  const rejected = text(json.rejected_reason) ?? "";
  return {
    id,
    name,
    language,
    status,
    category,
    content: {
      parameterFormat,
      components: fromMetaComponents(list(json.components), category),
      messageSendTtlSeconds: number(json.message_send_ttl_seconds) ?? 0,
    },
    rejectedReason: rejected === "NONE" ? "" : rejected,
    qualityScore: text(record(json.quality_score)?.score) ?? "",
  };
}

export function fromMetaComponents(items: readonly unknown[], category: TemplateCategory): TemplateComponents {
  const result: TemplateComponents = { header: undefined, body: { text: "", examples: emptyExamples(), addSecurityRecommendation: false }, footer: undefined, buttons: [] };
  for (const item of items.map(record)) {
    if (!item) continue;
    const type = (text(item.type) ?? "").toUpperCase();
    const example = record(item.example);
    if (type === "HEADER") {
      const format = (text(item.format) ?? "TEXT").toUpperCase() as TemplateHeader["format"];
      result.header = {
        format: ["TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION"].includes(format) ? format : "TEXT",
        text: format === "TEXT" ? (text(item.text) ?? "") : "",
        examples: { positional: list(example?.header_text).map((v) => text(v) ?? ""), named: namedExamples(example?.header_text_named_params) },
        exampleMedia: format === "TEXT" || format === "LOCATION" ? "" : (text(list(example?.header_handle)[0]) ?? ""),
      };
    } else if (type === "BODY") {
      const bodyText = text(item.text) ?? "";
      result.body =
        category === "AUTHENTICATION"
          ? { text: "", examples: emptyExamples(), addSecurityRecommendation: item.add_security_recommendation === true || bodyText.includes("For your security") }
          : {
              text: bodyText,
              examples: { positional: list(list(example?.body_text)[0]).map((v) => text(v) ?? ""), named: namedExamples(example?.body_text_named_params) },
              addSecurityRecommendation: false,
            };
    } else if (type === "FOOTER") {
      const footerText = text(item.text) ?? "";
      const minutes = number(item.code_expiration_minutes) ?? Number(/(\d+) minutes/.exec(footerText)?.[1] ?? 0);
      result.footer = category === "AUTHENTICATION" ? { text: "", codeExpirationMinutes: minutes } : { text: footerText, codeExpirationMinutes: 0 };
    } else if (type === "BUTTONS") {
      result.buttons = list(item.buttons)
        .map(record)
        .filter((b): b is JsonObject => b !== undefined)
        .map((b) => fromMetaButton(b, category));
    }
  }
  return result;
}

function fromMetaButton(b: JsonObject, category: TemplateCategory): TemplateButton {
  const type = (text(b.type) ?? "").toUpperCase();
  const label = text(b.text) ?? "";
  if (type === "OTP" || (category === "AUTHENTICATION" && type === "URL")) {
    const otpType = ((text(b.otp_type) ?? "COPY_CODE").toUpperCase() as OtpType) || "COPY_CODE";
    const apps = list(b.supported_apps)
      .map(record)
      .filter((a): a is JsonObject => a !== undefined)
      .map((a) => ({ packageName: text(a.package_name) ?? "", signatureHash: text(a.signature_hash) ?? "" }));
    return { kind: "otp", otpType, text: label, supportedApps: apps };
  }
  switch (type) {
    case "URL":
      return { kind: "url", text: label, url: text(b.url) ?? "", example: text(list(b.example)[0]) ?? "" };
    case "PHONE_NUMBER":
      return { kind: "phone_number", text: label, phoneNumber: text(b.phone_number) ?? "" };
    case "COPY_CODE":
      return { kind: "copy_code", example: text(list(b.example)[0]) ?? text(b.example) ?? "" };
    default:
      return { kind: "quick_reply", text: label };
  }
}

function namedExamples(value: unknown): Record<string, string> {
  const named: Record<string, string> = {};
  for (const item of list(value).map(record)) {
    const key = text(item?.param_name);
    if (key) named[key] = text(item?.example) ?? "";
  }
  return named;
}
