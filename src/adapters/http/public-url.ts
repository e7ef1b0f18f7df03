import type { AnyRequest } from "./json.js";

/**
 * The URL a caller requested, as the caller saw it — what Twilio signs
 * (`X-Twilio-Signature` covers the full URL, reference §9.3). Behind KrakenD
 * or an ingress the service sees another scheme, host and perhaps path
 * prefix than Twilio called, so:
 *
 * 1. `PUBLIC_URL` set → `PUBLIC_URL` + the path and query as received. It is
 *    the base Twilio is given (status callbacks are built from it, and the
 *    operator configures `PUBLIC_URL/webhook/twilio` in Twilio's console), so
 *    it is the one answer that cannot be wrong or forged; a gateway that
 *    strips a prefix is covered by putting the prefix in `PUBLIC_URL`.
 * 2. Else, with `TRUST_PROXY_HEADERS=true`, the first `X-Forwarded-Proto` and
 *    `X-Forwarded-Host` (set by the proxy in front), falling back to `Host`.
 * 3. Else `http://` + `Host`: the service itself speaks cleartext HTTP.
 *
 * Forwarded headers are ignored unless trusted: anyone can send them, and a
 * signature checked against a URL of the sender's choosing lets a request
 * signed for one URL be replayed at another.
 */
export interface PublicUrlOptions {
  publicUrl: string | undefined;
  trustProxyHeaders: boolean;
}

export function requestedUrl(req: Pick<AnyRequest, "url" | "headers">, options: PublicUrlOptions): string {
  const pathAndQuery = req.url ?? "/";
  if (options.publicUrl !== undefined) return `${options.publicUrl.replace(/\/+$/, "")}${pathAndQuery}`;
  const host = firstValue(req.headers.host) ?? firstValue(req.headers[":authority"]) ?? "localhost";
  if (options.trustProxyHeaders) {
    const proto = firstValue(req.headers["x-forwarded-proto"]) ?? "http";
    const forwardedHost = firstValue(req.headers["x-forwarded-host"]) ?? host;
    return `${proto}://${forwardedHost}${pathAndQuery}`;
  }
  return `http://${host}${pathAndQuery}`;
}

/** The first of a possibly repeated or comma-joined header, trimmed; undefined when empty. */
function firstValue(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  const first = raw?.split(",")[0]?.trim();
  return first === undefined || first === "" ? undefined : first;
}
