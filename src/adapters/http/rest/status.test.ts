import { createRegistry } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { file_google_rpc_error_details } from "../../../../gen/google/rpc/error_details_pb.js";
import { connectError } from "../../rpc/errors.js";
import { HTTP_STATUS_OF_CODE, restError } from "./status.js";

const registry = createRegistry(file_google_rpc_error_details);

describe("REST errors", () => {
  it("when a gRPC code is mapped, then the HTTP status is grpc-gateway's", () => {
    const expected: [Code, number][] = [
      [Code.InvalidArgument, 400],
      [Code.FailedPrecondition, 400],
      [Code.OutOfRange, 400],
      [Code.Unauthenticated, 401],
      [Code.PermissionDenied, 403],
      [Code.NotFound, 404],
      [Code.AlreadyExists, 409],
      [Code.Aborted, 409],
      [Code.ResourceExhausted, 429],
      [Code.Canceled, 499],
      [Code.Unimplemented, 501],
      [Code.Unavailable, 503],
      [Code.DeadlineExceeded, 504],
      [Code.Internal, 500],
      [Code.Unknown, 500],
      [Code.DataLoss, 500],
    ];
    for (const [code, status] of expected) expect({ code: Code[code], status: HTTP_STATUS_OF_CODE[code] }).toEqual({ code: Code[code], status });
  });

  it("when an error carries ErrorInfo and field violations, then the body is google.rpc.Status JSON with typed details, @type first", () => {
    const error = connectError(Code.InvalidArgument, "INVALID_ARGUMENT", "to: must be E.164", [{ field: "to", description: "must be E.164" }]);
    error.metadata.set("retry-after", "3");
    const { status, body, retryAfter } = restError(error, registry);
    expect(status).toBe(400);
    expect(retryAfter).toBe("3");
    expect(body).toEqual({
      code: 3,
      message: "to: must be E.164",
      details: [
        { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "INVALID_ARGUMENT", domain: "whatsapp-service" },
        { "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: [{ field: "to", description: "must be E.164" }] },
      ],
    });
    expect(Object.keys(body.details[0] as object)[0]).toBe("@type");
  });

  it("when something that is not a ConnectError is thrown, then the caller sees a bare internal error, never its message", () => {
    expect(restError(new Error("relation tenant_x.messages does not exist"), registry)).toEqual({
      status: 500,
      body: { code: Code.Internal, message: "internal error", details: [] },
      retryAfter: undefined,
    });
    expect(restError(new ConnectError("gone", Code.Unavailable), registry).status).toBe(503);
  });
});
