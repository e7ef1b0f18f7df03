import type { DescMessage, Message } from "@bufbuild/protobuf";
import { pathToString } from "@bufbuild/protobuf/reflect";
import { createValidator, violationsToProto, type Validator } from "@bufbuild/protovalidate";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { connectError } from "./errors.js";

/**
 * Checks every request against its protovalidate rules before any handler
 * runs. Like `@connectrpc/validate`, but the error also carries
 * `google.rpc.BadRequest` with plain field paths (`account.phone_number_id`),
 * which REST callers and people read more easily than `buf.validate.Violations`
 * (also attached, for protovalidate-aware clients).
 */
export function createValidationInterceptor(validator: Validator = createValidator()): Interceptor {
  return (next) => async (req) => {
    if (!req.stream) {
      check(validator, req.method.input, req.message);
      return next(req);
    }
    const source = req.message;
    async function* validated() {
      for await (const message of source) {
        check(validator, req.method.input, message);
        yield message;
      }
    }
    return next({ ...req, message: validated() });
  };
}

function check(validator: Validator, schema: DescMessage, message: Message): void {
  const result = validator.validate(schema, message);
  if (result.kind === "valid") return;
  if (result.kind === "error") {
    // A rule that cannot be evaluated is our bug, not the caller's.
    throw new ConnectError("request validation failed", Code.Internal, undefined, undefined, result.error);
  }
  const violations = result.violations.map((v) => ({ field: pathToString(v.field), description: v.message }));
  const error = connectError(
    Code.InvalidArgument,
    "INVALID_ARGUMENT",
    violations.map((v) => (v.field ? `${v.field}: ${v.description}` : v.description)).join("; "),
    violations,
  );
  const [value, desc] = violationsToProto(result.violations);
  error.details.push({ desc, value });
  throw error;
}
