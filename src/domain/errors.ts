/**
 * The one error type the core throws. Adapters map `kind` to a transport code
 * (Connect code, HTTP status); `message` is safe to show to the caller, while
 * `cause` is for logs only.
 */
export type DomainErrorKind =
  | "invalid_argument"
  | "not_found"
  | "already_exists"
  | "failed_precondition"
  | "permission_denied"
  | "unauthenticated"
  | "resource_exhausted"
  | "unavailable"
  | "internal";

export interface FieldViolation {
  /** Dotted path of the offending field in the request, e.g. `credentials.access_token`. */
  field: string;
  description: string;
}

export class DomainError extends Error {
  readonly kind: DomainErrorKind;
  /** Stable machine-readable reason, e.g. `ACCOUNT_NOT_FOUND`. */
  readonly reason: string;
  readonly violations: readonly FieldViolation[];

  constructor(
    kind: DomainErrorKind,
    reason: string,
    message: string,
    options: { violations?: readonly FieldViolation[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "DomainError";
    this.kind = kind;
    this.reason = reason;
    this.violations = options.violations ?? [];
  }

  static invalid(violations: readonly FieldViolation[], message?: string): DomainError {
    const text = message ?? violations.map((v) => `${v.field}: ${v.description}`).join("; ");
    return new DomainError("invalid_argument", "INVALID_ARGUMENT", text, { violations });
  }

  static notFound(what: string, id: string): DomainError {
    return new DomainError("not_found", `${what.toUpperCase()}_NOT_FOUND`, `${what} ${id} not found`);
  }
}
