import type { TemplateContent } from "../outbound/content.js";

/**
 * The send of an AUTHENTICATION template (reference §5.2): the code is the
 * body's one parameter and the parameter of the copy-code / one-tap button
 * (a `url` button at index 0 once Meta has created the template).
 */
export function authTemplateContent(name: string, language: string, code: string): TemplateContent {
  const text = (value: string) => ({ parameterName: "", value: { kind: "text" as const, text: value } });
  return {
    kind: "template",
    name,
    language,
    components: [
      { type: "body", subType: undefined, index: 0, parameters: [text(code)] },
      { type: "button", subType: "url", index: 0, parameters: [text(code)] },
    ],
  };
}
