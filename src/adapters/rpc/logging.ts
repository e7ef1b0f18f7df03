import type { ConnectError} from "@connectrpc/connect";
import { Code, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "../../observability/logger.js";
import { tenantKey } from "./tenant-context.js";
import { toConnectError } from "./errors.js";

/**
 * One log line per RPC — method, tenant, code, duration — and the one place
 * where handler errors become what the caller sees (see toConnectError). For
 * server streams the line is written when the stream ends.
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
      try {
        yield* source;
        line(undefined);
      } catch (e) {
        const error = toConnectError(e);
        line(error);
        throw error;
      }
    }
    return { ...response, message: logged() };
  };
}
