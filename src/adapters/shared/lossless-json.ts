/**
 * `JSON.parse` that never rounds an integer.
 *
 * JavaScript numbers hold integers exactly only up to 2^53. Meta documents
 * ids and timestamps as strings, but a delivery that carries one as a JSON
 * number (`"id": 12345678901234567890`) would come out of `JSON.parse` as
 * `12345678901234567000` — and two distinct ids could collapse into one and
 * be deduplicated as the same message. Here every integer literal too long
 * to be exact is kept as its decimal text (a string), which the tolerant
 * readers of the provider parsers accept wherever they accept an id.
 *
 * Node 20 has no `JSON.parse` source-text access (the reviver's `context`
 * argument arrives in later V8s), so the literals are found with one linear
 * scan that skips strings; bodies without a run of 16 digits (all of Meta's
 * own) take the plain `JSON.parse` path unchanged.
 */

/** 2^53 has 16 digits: shorter integer literals are always exact. */
const LONG_DIGIT_RUN = /\d{16}/;

export function parseJsonLossless(text: string): unknown {
  if (!LONG_DIGIT_RUN.test(text)) return JSON.parse(text);
  return JSON.parse(quoteUnsafeIntegers(text));
}

/** The same JSON text with every unsafe integer literal (outside strings) written as a string. */
export function quoteUnsafeIntegers(text: string): string {
  let out = "";
  let copiedUpTo = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      continue;
    }
    const isStart = c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39);
    if (!isStart) continue;
    // A number literal: sign, digits, then maybe a fraction or exponent.
    let end = i + 1;
    while (end < text.length && isNumberChar(text.charCodeAt(end))) end++;
    const literal = text.slice(i, end);
    if (/^-?\d+$/.test(literal) && !Number.isSafeInteger(Number(literal))) {
      out += text.slice(copiedUpTo, i) + `"${literal}"`;
      copiedUpTo = end;
    }
    i = end - 1;
  }
  return copiedUpTo === 0 ? text : out + text.slice(copiedUpTo);
}

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e /* . */ || c === 0x65 /* e */ || c === 0x45 /* E */ || c === 0x2b /* + */ || c === 0x2d;
}
