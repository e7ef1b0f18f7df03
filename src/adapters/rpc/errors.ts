import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { DomainError, type DomainErrorKind, type FieldViolation } from "../../domain/errors.js";
import { BadRequestSchema, BadRequest_FieldViolationSchema, ErrorInfoSchema } from "../../../gen/google/rpc/error_details_pb.js";
import { isDatabaseUnavailable } from "../shared/database-unavailable.js";

/** The `domain` of every ErrorInfo we send, so callers can tell our reasons from a proxy's. */
export const ERROR_DOMAIN = "whatsapp-service";

const CODE_OF_KIND: Record<DomainErrorKind, Code> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  failed_precondition: Code.FailedPrecondition,
  permission_denied: Code.PermissionDenied,
  unauthenticated: Code.Unauthenticated,
  resource_exhausted: Code.ResourceExhausted,
  unavailable: Code.Unavailable,
  internal: Code.Internal,
};

/**
 * Builds an error whose details carry `google.rpc.ErrorInfo` (stable reason)
 * and, for invalid requests, `google.rpc.BadRequest` field violations.
 */
export function connectError(code: Code, reason: string, message: string, violations: readonly FieldViolation[] = []): ConnectError {
  const details: NonNullable<ConstructorParameters<typeof ConnectError>[3]> = [
    { desc: ErrorInfoSchema, value: create(ErrorInfoSchema, { reason, domain: ERROR_DOMAIN }) },
  ];
  if (violations.length > 0) {
    details.push({
      desc: BadRequestSchema,
      value: create(BadRequestSchema, {
        fieldViolations: violations.map((v) => create(BadRequest_FieldViolationSchema, { field: v.field, description: v.description })),
      }),
    });
  }
  return new ConnectError(message, code, undefined, details);
}

/**
 * Normalises anything a handler threw into what the caller may see. Domain
 * errors keep their message; anything else becomes a bare Internal error — the
 * cause (stack, SQL) is for our logs, never for the caller.
 */
export function toConnectError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof DomainError) {
    return connectError(CODE_OF_KIND[error.kind], error.reason, error.message, error.violations);
  }
  // A lost or unreachable database did nothing durable: the caller may retry (gRPC clients do on Unavailable).
  if (isDatabaseUnavailable(error)) return new ConnectError("temporarily unavailable, retry", Code.Unavailable, undefined, undefined, error);
  return new ConnectError("internal error", Code.Internal, undefined, undefined, error);
}
