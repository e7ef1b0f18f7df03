/**
 * Opt-out / opt-in keywords: a contact who writes exactly "STOP" (or "Baja",
 * "cancelar.", "ÁLTO"…) asks not to receive marketing messages; "START"
 * ("alta", "suscribir"…) takes it back. The whole message must be the
 * keyword: "stop sending me the menu?" is a sentence, not a request.
 */

/** The service's lists, used until a tenant sets its own (tenant_settings). */
export const DEFAULT_OPT_OUT_KEYWORDS: readonly string[] = [
  "STOP",
  "STOP ALL",
  "UNSUBSCRIBE",
  "CANCEL",
  "END",
  "QUIT",
  "OPT OUT",
  "BAJA",
  "DAR DE BAJA",
  "ALTO",
  "PARAR",
  "CANCELAR",
  "DESUSCRIBIR",
  "NO MAS",
];

export const DEFAULT_OPT_IN_KEYWORDS: readonly string[] = ["START", "UNSTOP", "SUBSCRIBE", "RESUME", "OPT IN", "ALTA", "DAR DE ALTA", "SUSCRIBIR", "REANUDAR"];

/** At most this long after normalising: longer texts are never keywords (and are not compared). */
export const MAX_KEYWORD_LENGTH = 64;

/**
 * The comparable form of a text: accents removed (NFD, combining marks
 * dropped), lower-cased, surrounding whitespace and punctuation removed,
 * inner whitespace collapsed to one space.
 */
export function normaliseKeyword(text: string): string {
  return text
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/^[\p{P}\p{S}\s]+|[\p{P}\p{S}\s]+$/gu, "")
    .replace(/\s+/gu, " ");
}

export type KeywordIntent = "opt_out" | "opt_in";

export interface KeywordLists {
  optOut: readonly string[];
  optIn: readonly string[];
}

/** A prepared matcher for one tenant's lists. */
export function keywordMatcher(lists: KeywordLists): (text: string) => KeywordIntent | undefined {
  const optOut = new Set(lists.optOut.map(normaliseKeyword).filter((k) => k !== ""));
  const optIn = new Set(lists.optIn.map(normaliseKeyword).filter((k) => k !== ""));
  return (text) => {
    if (!mayBeKeyword(text)) return undefined;
    const normalised = normaliseKeyword(text);
    // A word in both lists opts out: the safer reading of an ambiguous request.
    if (optOut.has(normalised)) return "opt_out";
    if (optIn.has(normalised)) return "opt_in";
    return undefined;
  };
}

/** Cheap pre-check before any settings are read: only short texts can be keywords. */
export function mayBeKeyword(text: string): boolean {
  const trimmed = text.trim();
  return trimmed !== "" && trimmed.length <= MAX_KEYWORD_LENGTH * 2;
}
