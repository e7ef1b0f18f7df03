/**
 * Twilio's request signature, `X-Twilio-Signature` (reference §9.3, as
 * twilio-python's `RequestValidator` computes it):
 *
 *     s = the full URL Twilio requested (scheme://host[:port]/path?query)
 *     for each POST parameter NAME in sorted order (duplicates once):
 *       for each of its values in sorted order (duplicates once):
 *         s += name + value
 *     signature = base64(HMAC-SHA1(key = auth token, s))
 *
 * The values are the form-decoded ones; query parameters are not added a
 * second time (they are in the URL). Twilio is inconsistent about default
 * ports, so a request is valid when the signature matches the URL as given,
 * with the default port added, or with it removed (the validators of every
 * Twilio SDK check both).
 *
 * Newer webhook types post JSON and sign the URL alone, which then carries
 * `bodySHA256=<hex sha256 of the body>`; that hash must match too.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export const TWILIO_SIGNATURE_HEADER = "x-twilio-signature";

/** Why a signature was refused, for logs and counters (never the signature itself). */
export type TwilioSignatureCheck = "valid" | "missing" | "malformed" | "mismatch";

/** A form's parameters in the order received; a name may repeat. */
export type FormParams = readonly (readonly [string, string])[];

/** Byte-wise (code point) order, as Python's `sorted` on str: not locale order. */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The string Twilio signs for `url` and `params`. */
export function twilioStringToSign(url: string, params: FormParams): string {
  const byName = new Map<string, Set<string>>();
  for (const [name, value] of params) {
    const values = byName.get(name) ?? new Set<string>();
    values.add(value);
    byName.set(name, values);
  }
  let s = url;
  for (const name of [...byName.keys()].sort(byCodePoint)) {
    for (const value of [...(byName.get(name) ?? [])].sort(byCodePoint)) s += name + value;
  }
  return s;
}

/** `X-Twilio-Signature` for a request to `url` with `params`, as Twilio computes it. */
export function twilioSignature(authToken: string, url: string, params: FormParams): string {
  return createHmac("sha1", authToken).update(twilioStringToSign(url, params), "utf8").digest("base64");
}

/**
 * The URL as given, without its default port and with it: Twilio may have
 * signed any of them (reference §9.3, "port quirk").
 */
export function urlVariants(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [url];
  }
  const defaultPort = parsed.protocol === "https:" ? "443" : parsed.protocol === "http:" ? "80" : undefined;
  if (defaultPort === undefined) return [url];
  // WHATWG URL drops a default port on parse; rebuild both forms by hand so the
  // path and query stay byte for byte what was requested.
  const rest = url.slice(url.indexOf("//") + 2);
  const slash = rest.search(/[/?#]/);
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const tail = slash === -1 ? "" : rest.slice(slash);
  const scheme = url.slice(0, url.indexOf("//") + 2);
  const port = /:(\d+)$/.exec(authority)?.[1];
  // Another port is part of what Twilio called; there is no variant of it.
  if (port !== undefined && port !== defaultPort) return [url];
  const host = port === undefined ? authority : authority.slice(0, -(port.length + 1));
  const variants = new Set([url, `${scheme}${host}${tail}`, `${scheme}${host}:${defaultPort}${tail}`]);
  return [...variants];
}

/**
 * Checks `header` against the request in constant time per candidate URL:
 * the presented signature must decode to exactly 20 bytes (an HMAC-SHA1),
 * and is compared with `timingSafeEqual`, so the time says nothing about
 * how much of a forgery was right.
 */
export function checkTwilioSignature(authToken: string, url: string, params: FormParams, header: string | string[] | undefined): TwilioSignatureCheck {
  if (header === undefined || header === "") return "missing";
  // A repeated header is an attempt to confuse, not something Twilio sends.
  if (Array.isArray(header)) return "malformed";
  const trimmed = header.trim();
  if (!/^[A-Za-z0-9+/]{27}=$/.test(trimmed)) return "malformed";
  const presented = Buffer.from(trimmed, "base64");
  if (presented.length !== 20) return "malformed";
  let valid = false;
  for (const candidate of urlVariants(url)) {
    const expected = createHmac("sha1", authToken).update(twilioStringToSign(candidate, params), "utf8").digest();
    // No early exit: every variant is computed and compared.
    if (timingSafeEqual(presented, expected)) valid = true;
  }
  return valid ? "valid" : "mismatch";
}

/**
 * A JSON-body webhook: the URL (which carries `bodySHA256`) is signed with
 * no parameters, and the body must hash to that value.
 */
export function checkTwilioJsonSignature(authToken: string, url: string, body: Uint8Array, header: string | string[] | undefined): TwilioSignatureCheck {
  const signature = checkTwilioSignature(authToken, url, [], header);
  if (signature !== "valid") return signature;
  let claimed: string | null;
  try {
    claimed = new URL(url).searchParams.get("bodySHA256");
  } catch {
    return "mismatch";
  }
  if (claimed === null || !/^[0-9a-fA-F]{64}$/.test(claimed)) return "mismatch";
  const actual = createHash("sha256").update(body).digest();
  return timingSafeEqual(actual, Buffer.from(claimed, "hex")) ? "valid" : "mismatch";
}
