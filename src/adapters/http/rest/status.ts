import { create, fromBinary, toJson, type DescMessage, type JsonValue, type Registry } from "@bufbuild/protobuf";
import { anyPack, AnySchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Errors of the REST routes as grpc-gateway callers expect them: the HTTP
 * status from the gRPC code (grpc-gateway's `HTTPStatusFromCode`), and the
 * body a `google.rpc.Status` in proto3 JSON —
 * `{"code": 3, "message": "…", "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest", …}]}`
 * with `code` the gRPC code number. The Connect routes keep Connect's own
 * error JSON (`{"code": "invalid_argument", …}`); both carry the same details.
 */

export const HTTP_STATUS_OF_CODE: Readonly<Record<Code, number>> = {
  [Code.Canceled]: 499,
  [Code.Unknown]: 500,
  [Code.InvalidArgument]: 400,
  [Code.DeadlineExceeded]: 504,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.PermissionDenied]: 403,
  [Code.ResourceExhausted]: 429,
  [Code.FailedPrecondition]: 400,
  [Code.Aborted]: 409,
  [Code.OutOfRange]: 400,
  [Code.Unimplemented]: 501,
  [Code.Internal]: 500,
  [Code.Unavailable]: 503,
  [Code.DataLoss]: 500,
  [Code.Unauthenticated]: 401,
};

export interface StatusJson {
  code: number;
  message: string;
  details: JsonValue[];
  [key: string]: JsonValue;
}

/**
 * `google.rpc.Status` JSON of an error. Details whose type the registry does
 * not know are left out rather than sent as opaque bytes.
 */
/** `{"@type": …, …}` with the type first, as people (and grpc-gateway) write it. */
function typeFirst(json: JsonValue): JsonValue {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return json;
  const { "@type": type, ...rest } = json;
  return { "@type": type ?? null, ...rest };
}

export function statusJson(error: ConnectError, registry: Registry): StatusJson {
  const details: JsonValue[] = [];
  for (const detail of error.details) {
    if ("desc" in detail) {
      details.push(typeFirst(toJson(AnySchema, anyPack(detail.desc, create(detail.desc, detail.value)), { registry })));
      continue;
    }
    const desc: DescMessage | undefined = registry.getMessage(detail.type);
    if (desc === undefined) continue;
    details.push(typeFirst(toJson(AnySchema, anyPack(desc, fromBinary(desc, detail.value)), { registry })));
  }
  return { code: error.code, message: error.rawMessage, details };
}

/** The HTTP status and body of an error on a REST route. */
export function restError(error: unknown, registry: Registry): { status: number; body: StatusJson; retryAfter: string | undefined } {
  // Anything that is not a ConnectError is our bug: its message is for the log, not the caller.
  const connect = error instanceof ConnectError ? error : new ConnectError("internal error", Code.Internal);
  return { status: HTTP_STATUS_OF_CODE[connect.code] ?? 500, body: statusJson(connect, registry), retryAfter: connect.metadata.get("retry-after") ?? undefined };
}
