import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import type { Config } from "../../config.js";
import type { Logger } from "../../observability/logger.js";
import type { NatsLink } from "../nats/connection.js";
import { createAccessControl } from "../auth/access-control.js";
import { createAuditInterceptor } from "../rpc/audit.js";
import { createAccessInterceptors } from "../rpc/auth-interceptor.js";
import { createLoggingInterceptor } from "../rpc/logging.js";
import { createValidationInterceptor } from "../rpc/validation.js";
import { serveHealth } from "./health-routes.js";
import { sendJson, type AnyRequest, type AnyResponse } from "./json.js";
import type { RequestHandler } from "./one-port-server.js";
import { createRestGateway, createStreamAdmissionInterceptor, loadOpenApiDocument, type RestGateway } from "./rest/index.js";
import { createMetaWebhookHandler, type MetaWebhookDeps } from "./webhook-routes.js";

/** Request bodies above this are refused before they are read whole (Connect's own limit). */
export const MAX_RPC_BODY_BYTES = 4 * 1024 * 1024;

/** How RPC request JSON is read (see createHttpHandler): unknown names are refused, not dropped. */
export const STRICT_JSON_READ = { ignoreUnknownFields: false } as const;

/**
 * The whole HTTP surface of the port: Connect, gRPC and gRPC-Web for every
 * service; the REST/JSON routes of their `google.api.http` annotations (which
 * call the same handlers, interceptors included, in memory); and the plain
 * routes (Meta webhooks, health) for everything else.
 */
export interface HttpDeps extends MetaWebhookDeps {
  config: Config;
  logger: Logger;
  /** For the readiness check only. */
  database: { ping(): Promise<void>; kind: "postgres" | "pglite" };
  nats: Pick<NatsLink, "state"> | undefined;
  /** The Connect services (rpc/routes.ts), bound to their dependencies by the composition root. */
  routes: (router: ConnectRouter) => void;
  /** Live accounts per status, for `/health/whatsapp`. */
  accountStatuses: () => Promise<Record<string, number>>;
}

export function createHttpHandler(
  app: HttpDeps,
  state: { serving: () => boolean; database?: () => { reachable: boolean; latencyMs: number | undefined } },
): RequestHandler {
  const metaWebhook = createMetaWebhookHandler(app);
  const fallback = (req: AnyRequest, res: AnyResponse) => {
    // Webhooks first: they are the hot path of the plain routes.
    metaWebhook(req, res)
      // The REST gateway is built below from the router's handlers, before any request can come.
      .then(async (served) => served || (await rest.serve(req, res)))
      .then(
        (served) =>
          served ||
          serveHealth(req, res, {
            serving: state.serving,
            pingDatabase: () => app.database.ping(),
            ...(state.database ? { databaseState: state.database } : {}),
            accountStatuses: app.accountStatuses,
            databaseKind: app.database.kind,
            natsState: () => app.nats?.state ?? "disabled",
          }),
      )
      .then((served) => {
        if (!served) sendJson(res, 404, { code: "not_found", message: `no route for ${req.method} ${req.url?.split("?")[0]}` });
      })
      .catch((error: unknown) => {
        app.logger.error({ err: error, path: req.url }, "http route failed");
        if (!res.headersSent) sendJson(res, 500, { code: "internal", message: "internal error" });
      });
  };

  // Built once: it holds the JWKS cache, the IAM answer cache and the rate buckets.
  // The plain routes (health, webhooks) are public and never pass through it.
  const access = createAccessControl(app.config, app.logger);

  let rpcHandlers: UniversalHandler[] = [];
  const handler = connectNodeAdapter({
    routes: (router) => {
      app.routes(router);
      // The REST layer calls these very handlers (with their interceptors), not a second copy.
      rpcHandlers = router.handlers;
    },
    // Order matters: logging sees every outcome (including refusals by the
    // interceptors after it) and is the one place errors are normalised; audit
    // sees access refusals; access control runs before validation and handlers.
    interceptors: [
      createLoggingInterceptor(app.logger),
      createAuditInterceptor(app.logger),
      ...createAccessInterceptors(access, app.logger),
      createValidationInterceptor(),
      // Last: tells the REST layer a stream got past everything above (see rest/stream-admission.ts).
      createStreamAdmissionInterceptor(),
    ],
    readMaxBytes: MAX_RPC_BODY_BYTES,
    // JSON requests are read strictly, as proto3 JSON's own default: an
    // unknown field name or enum name is InvalidArgument naming the field.
    // Connect's default ignores both, which turns a typo into silent data
    // loss — `"priority":"PRIORITY_NOPE"` queued at the default priority,
    // a misspelled `idempotencyKye` sent twice. Binary protobuf keeps its
    // usual forward compatibility (unknown fields are skipped).
    jsonOptions: STRICT_JSON_READ,
    fallback,
  });
  const rest: RestGateway = createRestGateway({ handlers: rpcHandlers, logger: app.logger, maxBodyBytes: MAX_RPC_BODY_BYTES, openapi: loadOpenApiDocument() });
  return handler;
}
