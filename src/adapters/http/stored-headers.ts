import type { AnyRequest } from "./json.js";

/** A stored header value is cut here: they are kept for diagnosis, not replay. */
const MAX_STORED_HEADER_LENGTH = 512;

/**
 * The request headers kept with a webhook delivery in the inbox: only the
 * `names` given (none of the webhook edges keeps a secret or a signature),
 * each cut to MAX_STORED_HEADER_LENGTH.
 */
export function storedHeaders(req: AnyRequest, names: readonly string[]): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of names) {
    const value = req.headers[name];
    if (typeof value === "string") kept[name] = value.slice(0, MAX_STORED_HEADER_LENGTH);
  }
  return kept;
}
