/**
 * Opaque page tokens of the conversation, message and contact lists:
 * base64url JSON of the last row's sort key (its timestamp as PostgreSQL
 * prints it — microseconds kept — and its id) and a hash of the query the
 * token belongs to (filters, order). A token used with other filters, a
 * token edited by hand or one from another list is refused with
 * InvalidArgument instead of silently returning a wrong page.
 */
import { DomainError } from "../errors.js";

/** The keyset position after which the next page starts. */
export interface PageKey {
  /** timestamptz as PostgreSQL prints it: `2025-06-01 12:00:00.123456+00`. */
  time: string;
  id: string;
}

const TIMESTAMP_TEXT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2}){0,2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `scope` names the list and its query, e.g. `conversations|{"status":"active"}`. */
export function encodePageToken(key: PageKey, scope: string): string {
  return Buffer.from(JSON.stringify({ k: [key.time, key.id], q: scopeHash(scope) }), "utf8").toString("base64url");
}

/** undefined for "" (the first page); throws InvalidArgument for anything this service did not make for `scope`. */
export function decodePageToken(token: string, scope: string): PageKey | undefined {
  if (token === "") return undefined;
  const invalid = (why: string) => DomainError.invalid([{ field: "page_token", description: why }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw invalid("is not a token this service returned");
  }
  if (typeof parsed !== "object" || parsed === null) throw invalid("is not a token this service returned");
  const { k, q } = parsed as { k?: unknown; q?: unknown };
  if (!Array.isArray(k) || k.length !== 2 || typeof q !== "string") throw invalid("is not a token this service returned");
  const [time, id] = k as unknown[];
  if (typeof time !== "string" || !TIMESTAMP_TEXT.test(time) || typeof id !== "string" || !UUID.test(id)) {
    throw invalid("is not a token this service returned");
  }
  if (q !== scopeHash(scope)) throw invalid("was returned for other filters or another order; repeat the same request with it");
  return { time, id };
}

/** A short, stable hash (cyrb53, 53 bits as hex): binds a token to its query, not a secret. */
function scopeHash(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16);
}

/** Page sizes: 0 = the default. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

export function pageSizeOf(requested: number): number {
  if (requested <= 0) return DEFAULT_PAGE_SIZE;
  return Math.min(requested, MAX_PAGE_SIZE);
}
