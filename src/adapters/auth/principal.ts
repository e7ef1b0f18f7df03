/**
 * Who is calling, as established by a verified bearer token, and the one error
 * type the auth layer throws. Protocol-neutral: the Connect interceptors map
 * it to RPC codes, and the REST layer maps those codes to HTTP statuses.
 */

export interface Principal {
  /** The token's `sub`: the calling service or user, for audit lines and the IAM check. */
  subject: string | undefined;
  /** The token's `tenant_id`: the only source of the tenant in `AUTH_MODE=jwt`. */
  tenantId: string;
  /** The token's `permissions` (e.g. `whatsapp:send`). */
  permissions: ReadonlySet<string>;
  /** The token's `jti`, when the issuer sets one: ties an audit line to one token. */
  tokenId: string | undefined;
}

export type AuthFailureKind = "unauthenticated" | "permission_denied" | "resource_exhausted" | "unavailable";

/** What the caller is told, per kind: never which check failed, never whether a resource exists. */
const PUBLIC_MESSAGES: Record<AuthFailureKind, string> = {
  unauthenticated: "invalid or missing bearer token",
  permission_denied: "permission denied",
  resource_exhausted: "request rate limit exceeded for this tenant",
  unavailable: "authorization is temporarily unavailable",
};

/**
 * A refused call. `message` is the public text; `reason` says which check
 * failed and is for our logs only (a caller probing tokens learns nothing).
 */
export class AuthFailure extends Error {
  constructor(
    readonly kind: AuthFailureKind,
    readonly reason: string,
    /** For `resource_exhausted`: when the caller may try again. */
    readonly retryAfterMs?: number,
    /** Overrides the generic public text where more says nothing secret (e.g. the missing permission). */
    publicMessage?: string,
  ) {
    super(publicMessage ?? PUBLIC_MESSAGES[kind]);
    this.name = "AuthFailure";
  }
}
