/**
 * Parsing untrusted JSON without handing the parser something that can hurt:
 * nesting is measured by a linear scan of the raw bytes (no recursion, no
 * allocation) before `JSON.parse` runs, so 100,000 `[` cost one pass over
 * the bytes instead of a deep parse.
 */

import { parseJsonLossless } from "../shared/lossless-json.js";

/** Meta's deepest payloads nest about 8 levels; anything near this is not from Meta. */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** True when arrays/objects nest deeper than `maxDepth` anywhere in `bytes` (brackets inside strings do not count). */
export function jsonDepthExceeds(bytes: Uint8Array, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (inString) {
      if (byte === BACKSLASH) i++; // the escaped character cannot end the string
      else if (byte === QUOTE) inString = false;
      continue;
    }
    if (byte === QUOTE) inString = true;
    else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) depth--;
  }
  return false;
}

export type JsonObjectParse = { ok: true; value: Record<string, unknown> } | { ok: false; reason: string };

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The body as a JSON object, or why it is not one (reasons are for logs and the 400 answer; they never quote the body). */
export function parseJsonObject(bytes: Uint8Array, maxDepth = MAX_JSON_DEPTH): JsonObjectParse {
  if (jsonDepthExceeds(bytes, maxDepth)) return { ok: false, reason: `JSON nested deeper than ${maxDepth} levels` };
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, reason: "body is not valid UTF-8" };
  }
  let value: unknown;
  try {
    value = parseJsonLossless(text);
  } catch {
    return { ok: false, reason: "body is not valid JSON" };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { ok: false, reason: "body is not a JSON object" };
  }
  return { ok: true, value: value as Record<string, unknown> };
}
