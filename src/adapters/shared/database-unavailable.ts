/**
 * Whether an error means "the database could not be reached or the
 * connection died" — the request did nothing durable and may be retried —
 * rather than a bug or a bad request. Walks the cause chain (drizzle wraps
 * driver errors).
 */

/** postgres.js's own codes for a connection that could not be made or was lost. */
const DRIVER_CODES = new Set(["CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT"]);
/** Socket-level codes from Node. */
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
/** SQLSTATEs: 57P01 admin_shutdown (terminated), 57P02 crash_shutdown, 57P03 cannot_connect_now; class 08 is "connection exception". */
const SQLSTATES = new Set(["57P01", "57P02", "57P03"]);

export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current !== undefined && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && (DRIVER_CODES.has(code) || SOCKET_CODES.has(code) || SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) {
      return true;
    }
    if (current instanceof Error && current.message.startsWith("database did not answer within")) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
