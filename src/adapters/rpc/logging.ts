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
        // Once the caller is gone, whatever surfaces on the way out (the
        // abort as an error, or the adapter's failed write to a reset stream,
        // which can come before the signal aborts) is not what the caller saw.
        error = abortedError(req.signal, req.header, started) ?? (isHangUp(e) ? hangUpError(undefined, req.header, started) : toConnectError(e));
        throw error;
      } finally {
        // A stream whose caller cancelled it or whose deadline passed usually
        // ends without an error: the handler sees its signal abort and stops.
        // The line then tells what the caller got, not "OK". The finally also
        // covers a stream the adapter stops reading (return()).
        line(error ?? abortedError(req.signal, req.header, started));
      }
    }
    return { ...response, message: logged() };
  };
}

/**
 * Why the request's signal aborted, as the code the caller saw: the reason's
 * code (DeadlineExceeded when our deadline timer fired, Canceled for a
 * client that left or reset the stream). A client whose own deadline fires
 * first resets the stream before ours does (Connect's gRPC client with an
 * HTTP/2 INTERNAL_ERROR, gRPC-Web by closing the connection), so a hang-up
 * at or after the caller's deadline — less a small allowance for the
 * request's travel time — is logged as DeadlineExceeded too.
 */
function abortedError(signal: AbortSignal, header: Headers, startedMs: number): ConnectError | undefined {
  return signal.aborted ? hangUpError(signal.reason, header, startedMs) : undefined;
}

function hangUpError(cause: unknown, header: Headers, startedMs: number): ConnectError {
  const reason = cause === undefined ? new ConnectError("the caller went away", Code.Canceled) : ConnectError.from(cause, Code.Canceled);
  const timeoutMs = requestTimeoutMs(header);
  if (reason.code !== Code.DeadlineExceeded && timeoutMs !== undefined && performance.now() - startedMs >= timeoutMs - DEADLINE_ALLOWANCE_MS) {
    return new ConnectError("the caller's deadline passed", Code.DeadlineExceeded);
  }
  return reason;
}

/** Node's errors for writing to a stream or socket the peer has reset or closed. */
const HANG_UP_CODES = new Set(["ERR_STREAM_DESTROYED", "ERR_STREAM_PREMATURE_CLOSE", "ERR_STREAM_WRITE_AFTER_END", "ERR_HTTP2_INVALID_STREAM", "ERR_HTTP2_STREAM_ERROR", "ECONNRESET", "EPIPE"]);

function isHangUp(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (HANG_UP_CODES.has(String((e as NodeJS.ErrnoException).code))) return true;
  }
  return false;
}

const DEADLINE_ALLOWANCE_MS = 100;
const GRPC_TIMEOUT_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000001 };

/** The caller's timeout from `grpc-timeout` (gRPC, gRPC-Web) or `connect-timeout-ms` (Connect). */
function requestTimeoutMs(header: Headers): number | undefined {
  const connect = header.get("connect-timeout-ms");
  if (connect !== null && /^\d{1,10}$/.test(connect)) return Number(connect);
  const grpc = /^(\d{1,8})([HMSmun])$/.exec(header.get("grpc-timeout") ?? "");
  return grpc ? Number(grpc[1]) * GRPC_TIMEOUT_UNIT_MS[grpc[2]!]! : undefined;
}
