import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "../../observability/logger.js";
import { tenantKey } from "./tenant-context.js";
import { toConnectError } from "./errors.js";

/**
 * One log line per RPC — method, tenant, code, duration — and the one place
 * where handler errors become what the caller sees (see toConnectError). For
 * server streams the line is written when the stream ends, with the code the
 * caller saw (Canceled, DeadlineExceeded included).
 */
export function createLoggingInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const rpc = `${req.service.typeName}/${req.method.name}`;
    const line = (error: ConnectError | undefined) => {
      const fields = {
        rpc,
        tenant: req.contextValues.get(tenantKey),
        code: error ? Code[error.code] : "OK",
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      };
      if (error === undefined) logger.info(fields, "rpc");
      else if (error.code === Code.Internal || error.code === Code.Unknown || error.code === Code.DataLoss) {
        logger.error({ ...fields, err: error.cause ?? error }, "rpc failed");
      } else logger.info({ ...fields, error: error.rawMessage }, "rpc");
    };
    let response;
    try {
      response = await next(req);
    } catch (e) {
      const error = toConnectError(e);
      line(error);
      throw error;
    }
    if (!response.stream) {
      line(undefined);
      return response;
    }
    const source = response.message;
    async function* logged() {
      let error: ConnectError | undefined;
      try {
        yield* source;
      } catch (e) {
        error = toConnectError(e);
        throw error;
      } finally {
        // A stream whose caller cancelled it or whose deadline passed usually
        // ends without an error: the handler sees its signal abort and stops.
        // The line then tells what the caller got, not "OK". The finally also
        // covers a stream the adapter stops reading (return()).
        line(error ?? abortedError(req.signal));
      }
    }
    return { ...response, message: logged() };
  };
}

/** Why the request's signal aborted, as a code: DeadlineExceeded, Canceled (client left, RST_STREAM), … */
function abortedError(signal: AbortSignal): ConnectError | undefined {
  if (!signal.aborted) return undefined;
  return ConnectError.from(signal.reason, Code.Canceled);
}
