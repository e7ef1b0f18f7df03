import { describe, expect, it } from "vitest";

import type { TemplateComponent } from "../outbound/content.js";
import { renderTemplate } from "./render.js";
import { checkTemplateParameters } from "./send-check.js";
import { emptyExamples, type TemplateContent } from "./template.js";
import { validateNewTemplate, validateTemplateContent } from "./validate.js";

const body = (text: string, positional: string[] = [], named: Record<string, string> = {}) => ({ text, examples: { positional, named }, addSecurityRecommendation: false });

const utility = (components: Partial<TemplateContent["components"]>, parameterFormat: TemplateContent["parameterFormat"] = "POSITIONAL"): TemplateContent => ({
  category: "UTILITY",
  parameterFormat,
  messageSendTtlSeconds: 0,
  components: { header: undefined, body: body("Hello"), footer: undefined, buttons: [], ...components },
});

const fields = (content: TemplateContent) => validateTemplateContent(content).map((v) => v.field);
const text = (value: string, parameterName = "") => ({ parameterName, value: { kind: "text" as const, text: value } });

describe("template validation", () => {
  it("when the name or language break the pattern, then each is named", () => {
    const violations = validateNewTemplate({ name: "Bad Name", language: "english", ...utility({}) }).map((v) => v.field);
    expect(violations).toEqual(["template.name", "template.language"]);
  });

  it("when positional placeholders have a gap or examples are missing, then the body is refused", () => {
    expect(fields(utility({ body: body("Hi {{1}} and {{3}} ok", ["a", "b"]) }))).toEqual(["template.components.body.text"]);
    expect(fields(utility({ body: body("Hi {{1}} and {{2}} ok", ["a"]) }))).toEqual(["template.components.body.examples.positional"]);
    expect(fields(utility({ body: body("{{1}} starts it", ["a"]) }))).toEqual(["template.components.body.text"]);
    expect(fields(utility({ body: body("Hi {{1}} and {{2}} ok", ["a", "b"]) }))).toEqual([]);
  });

  it("when named placeholders lack an example or repeat, then each is named", () => {
    expect(fields(utility({ body: body("Hi {{first_name}} from {{shop}}.", [], { first_name: "Ana" }) }, "NAMED"))).toEqual(["template.components.body.examples.named"]);
    expect(fields(utility({ body: body("Hi {{first_name}} {{first_name}}.", [], { first_name: "Ana" }) }, "NAMED"))).toEqual(["template.components.body.text"]);
    expect(fields(utility({ body: body("Hi {{1}} ok", ["a"]) }, "NAMED"))).toEqual(["template.components.body.text"]);
  });

  it("when buttons break counts, grouping or category rules, then the buttons are refused", () => {
    const url = { kind: "url" as const, text: "Go", url: "https://e.com/{{1}}", example: "https://e.com/1" };
    expect(fields(utility({ buttons: [url, url, url] }))).toEqual(["template.components.buttons"]);
    expect(fields(utility({ buttons: [{ kind: "quick_reply", text: "a" }, url, { kind: "quick_reply", text: "b" }] }))).toEqual(["template.components.buttons"]);
    expect(fields(utility({ buttons: [{ kind: "copy_code", example: "SAVE10" }] }))).toEqual(["template.components.buttons[0]"]);
    expect(fields(utility({ buttons: [{ ...url, example: "" }] }))).toEqual(["template.components.buttons[0].url.example"]);
  });

  it("when an AUTHENTICATION template has text, a header or no OTP button, then each is refused; the minimal one is valid", () => {
    const auth: TemplateContent = {
      category: "AUTHENTICATION",
      parameterFormat: "POSITIONAL",
      messageSendTtlSeconds: 0,
      components: { header: { format: "TEXT", text: "Code", examples: emptyExamples(), exampleMedia: "" }, body: body("Your code"), footer: undefined, buttons: [] },
    };
    expect(fields(auth)).toEqual(["template.components.header", "template.components.body.text", "template.components.buttons"]);
    const minimal: TemplateContent = {
      ...auth,
      messageSendTtlSeconds: 300,
      components: { header: undefined, body: { ...body(""), addSecurityRecommendation: true }, footer: { text: "", codeExpirationMinutes: 10 }, buttons: [{ kind: "otp", otpType: "COPY_CODE", text: "", supportedApps: [] }] },
    };
    expect(fields(minimal)).toEqual([]);
  });
});

describe("send check and rendering", () => {
  const approved = utility({
    header: { format: "TEXT", text: "Order {{1}}", examples: { positional: ["#1"], named: {} }, exampleMedia: "" },
    body: body("Hi {{1}}, order {{2}} ships.", ["a", "b"]),
    buttons: [{ kind: "url", text: "Track", url: "https://e.com/{{1}}", example: "https://e.com/1" }],
  });
  const full: TemplateComponent[] = [
    { type: "header", subType: undefined, index: 0, parameters: [text("#7")] },
    { type: "body", subType: undefined, index: 0, parameters: [text("Ana"), text("#7")] },
    { type: "button", subType: "url", index: 0, parameters: [text("7")] },
  ];

  it("when every placeholder is filled, then the send passes and renders fully", () => {
    expect(checkTemplateParameters(approved, { kind: "template", name: "x", language: "en", components: full })).toEqual([]);
    expect(renderTemplate(approved, full)).toMatchObject({ header: "Order #7", body: "Hi Ana, order #7 ships.", buttons: ["Track: https://e.com/7"], missing: [] });
  });

  it("when a body parameter is missing or a button is not in the template, then the component is named", () => {
    const short: TemplateComponent[] = [full[0]!, { ...full[1]!, parameters: [text("Ana")] }, full[2]!, { type: "button", subType: "quick_reply", index: 3, parameters: [] }];
    expect(checkTemplateParameters(approved, { kind: "template", name: "x", language: "en", components: short }).map((v) => v.field)).toEqual([
      "template.components[1].parameters",
      "template.components[3].index",
    ]);
  });

  it("when a NAMED template gets an unknown name, then it is refused", () => {
    const named = utility({ body: body("Hi {{first_name}}.", [], { first_name: "Ana" }) }, "NAMED");
    const send = { kind: "template" as const, name: "x", language: "en", components: [{ type: "body" as const, subType: undefined, index: 0, parameters: [text("Ana", "name")] }] };
    expect(checkTemplateParameters(named, send).map((v) => v.description)).toEqual(["the approved template is NAMED: missing {{first_name}}", "the approved template has no placeholder {{name}}"]);
  });
});
