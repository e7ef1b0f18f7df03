import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { AppContext } from "../../context.js";
import { createLoggingInterceptor } from "../rpc/logging.js";
import { routes } from "../rpc/routes.js";
import { createHeaderTenantInterceptor } from "../rpc/tenant-context.js";
import { createValidationInterceptor } from "../rpc/validation.js";
import { serveHealth } from "./health-routes.js";
import { sendJson, type AnyRequest, type AnyResponse } from "./json.js";
import type { RequestHandler } from "./one-port-server.js";

/** Request bodies above this are refused before they are read whole (Connect's own limit). */
export const MAX_RPC_BODY_BYTES = 4 * 1024 * 1024;

/**
 * The whole HTTP surface of the port: Connect, gRPC and gRPC-Web for every
 * service, and the plain routes (health) for everything else.
 */
export function createHttpHandler(app: AppContext, state: { serving: () => boolean }): RequestHandler {
  const fallback = (req: AnyRequest, res: AnyResponse) => {
    serveHealth(req, res, {
      serving: state.serving,
      pingDatabase: () => app.database.ping(),
      databaseKind: app.database.kind,
    })
      .then((served) => {
        if (!served) sendJson(res, 404, { code: "not_found", message: `no route for ${req.method} ${req.url?.split("?")[0]}` });
      })
      .catch((error: unknown) => {
        app.logger.error({ err: error, path: req.url }, "http route failed");
        if (!res.headersSent) sendJson(res, 500, { code: "internal", message: "internal error" });
      });
  };

  return connectNodeAdapter({
    routes: routes(app),
    // Order matters: logging sees every outcome (including refusals by the
    // interceptors after it) and is the one place errors are normalised.
    interceptors: [createLoggingInterceptor(app.logger), createHeaderTenantInterceptor(), createValidationInterceptor()],
    readMaxBytes: MAX_RPC_BODY_BYTES,
    fallback,
  });
}
