/**
 * Placeholders in template text: `{{1}}`, `{{2}}`… (POSITIONAL) or
 * `{{first_name}}` (NAMED) — reference §7.6.
 */
import type { ParameterFormat, TemplateComponents } from "./template.js";

export interface Placeholder {
  /** What is between the braces, trimmed: "1", "first_name". */
  key: string;
  /** Offset of `{{` in the text. */
  start: number;
  /** Offset just after `}}`. */
  end: number;
}

const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;
export const NAMED_KEY = /^[a-z_][a-z0-9_]*$/;
export const POSITIONAL_KEY = /^[1-9][0-9]*$/;

export function placeholdersOf(text: string): Placeholder[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => ({ key: m[1]!.trim(), start: m.index, end: m.index + m[0].length }));
}

/** Distinct keys in order of first appearance. */
export function distinctKeys(text: string): string[] {
  return [...new Set(placeholdersOf(text).map((p) => p.key))];
}

/**
 * What a send must fill: the header's and body's placeholders (distinct,
 * POSITIONAL sorted by number), and the URL buttons (by index) whose URL
 * ends in a placeholder.
 */
export interface RequiredParameters {
  header: string[];
  body: string[];
  /** Button indexes of URL buttons with a placeholder. */
  urlButtons: number[];
}

export function requiredParameters(components: TemplateComponents, format: ParameterFormat): RequiredParameters {
  const keys = (text: string) => {
    const found = distinctKeys(text);
    return format === "POSITIONAL" ? found.sort((a, b) => Number(a) - Number(b)) : found;
  };
  const header = components.header?.format === "TEXT" ? keys(components.header.text) : [];
  const urlButtons: number[] = [];
  components.buttons.forEach((button, index) => {
    if (button.kind === "url" && placeholdersOf(button.url).length > 0) urlButtons.push(index);
  });
  return { header, body: keys(components.body.text), urlButtons };
}

/** Replaces each placeholder with `fill(key)`, or leaves it as written when that is undefined. */
export function fillPlaceholders(text: string, fill: (key: string) => string | undefined): string {
  return text.replace(PLACEHOLDER, (whole, key: string) => fill(key.trim()) ?? whole);
}
