import { createRegistry, toJson, type DescFile, type DescMessage, type DescMethodServerStreaming, type DescMethodUnary, type DescService, type JsonValue, type Message, type Registry } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import type { Logger } from "../../../observability/logger.js";
import { file_buf_validate_validate } from "../../../../gen/buf/validate/validate_pb.js";
import { file_google_rpc_error_details } from "../../../../gen/google/rpc/error_details_pb.js";
import { connectError } from "../../rpc/errors.js";
import type { AnyRequest, AnyResponse } from "../json.js";
import { discardUnreadBody, readBodyWithLimit } from "../read-body.js";
import { BindError, bindRequest } from "./binder.js";
import { createInMemoryTransport } from "./in-memory-transport.js";
import { compileRouteTable, type RestRoute, type RouteTable } from "./route-table.js";
import { eventIdReader, serveEventStream } from "./sse.js";
import { restError, statusJson, type StatusJson } from "./status.js";
import { streamAdmittedKey } from "./stream-admission.js";

/**
 * REST/JSON transcoding of every RPC that carries a `google.api.http`
 * annotation, gRPC-gateway style, on the same port as Connect and gRPC.
 *
 * A request is matched against the route table (compiled from the
 * descriptors of the services the Connect router serves), bound into the
 * request message (binder.ts), and sent through an in-memory Connect
 * transport to the router's own handlers — the whole interceptor chain runs,
 * exactly as for a gRPC call. The answer is the response in proto3 JSON
 * (implicit defaults included, as grpc-gateway emits them), or a
 * `google.rpc.Status` JSON error with the mapped HTTP status (status.ts).
 * A server stream is sent as Server-Sent Events (sse.ts).
 */

export interface RestGatewayOptions {
  /** The Connect router's handlers (`router.handlers`): the services and their interceptors. */
  handlers: readonly UniversalHandler[];
  logger: Logger;
  maxBodyBytes: number;
  /** The OpenAPI document served at `/openapi.json`, when there is one. */
  openapi?: string | undefined;
  /** Interval of the SSE keep-alive comments. */
  keepAliveMs?: number;
}

export interface RestGateway {
  table: RouteTable;
  /** Serves the request when it is ours (a REST route, a path under a REST prefix, or /openapi.json); false otherwise. */
  serve(req: AnyRequest, res: AnyResponse): Promise<boolean>;
}

/** Request headers that describe the HTTP exchange itself, not the call: never forwarded to the RPC. */
const NOT_FORWARDED = new Set([
  "host",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "content-length",
  "content-type",
  "content-encoding",
  "accept-encoding",
  "accept",
  "http2-settings",
  "proxy-connection",
]);

/** Every file the services use, with their imports, and the error detail types: what proto3 JSON needs to resolve. */
export function registryFor(services: readonly DescService[]): Registry {
  const files = new Map<string, DescFile>();
  const add = (file: DescFile) => {
    if (files.has(file.name)) return;
    files.set(file.name, file);
    file.dependencies.forEach(add);
  };
  services.forEach((s) => add(s.file));
  add(file_google_rpc_error_details);
  add(file_buf_validate_validate);
  return createRegistry(...files.values());
}

export function createRestGateway(options: RestGatewayOptions): RestGateway {
  const services = [...new Map(options.handlers.map((h) => [h.service.typeName, h.service])).values()];
  const table = compileRouteTable(services);
  const registry = registryFor(services);
  const transportWith = createInMemoryTransport(options.handlers);
  // Unary calls carry no per-call context values: one transport serves them all.
  const unaryTransport = transportWith(undefined);
  const write = { registry, alwaysEmitImplicit: true } as const;

  const fail = (res: AnyResponse, status: number, body: StatusJson, extra: Record<string, string> = {}) => {
    if (res.headersSent) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store", ...extra });
    res.end(text);
  };
  const failWith = (res: AnyResponse, error: unknown) => {
    const { status, body, retryAfter } = restError(error, registry);
    fail(res, status, body, retryAfter === undefined ? {} : { "retry-after": retryAfter });
  };

  const forwardedHeaders = (req: AnyRequest): Headers => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || name.startsWith(":") || NOT_FORWARDED.has(name) || name.startsWith("connect-") || name.startsWith("grpc-")) continue;
      headers.set(name, Array.isArray(value) ? value.join(", ") : value);
    }
    return headers;
  };

  async function bind(route: RestRoute, req: AnyRequest, pathValues: Map<string, string>, query: URLSearchParams): Promise<Message> {
    let body = "";
    if (route.body !== undefined) {
      const read = await readBodyWithLimit(req, options.maxBodyBytes);
      if (read.kind === "too_large") throw new BodyTooLarge(`request body larger than ${options.maxBodyBytes} bytes`);
      if (read.kind === "aborted") throw new ConnectError("the request body was cut off", Code.Canceled);
      body = read.body.toString("utf8");
    }
    try {
      return bindRequest(route, { pathValues, query, body }, registry);
    } catch (error) {
      if (!(error instanceof BindError)) throw error;
      // Refused before the RPC pipeline (so no rpc log line): say why for operators.
      options.logger.info({ rest: `${route.verb} ${route.template.source}`, rpc: `${route.service.typeName}/${route.method.name}`, error: error.message }, "REST request not bound");
      throw invalidArgument(error);
    }
  }

  function responseJson(route: RestRoute, schema: DescMessage, message: Message): JsonValue {
    const json = toJson(schema, message, write) as Record<string, JsonValue>;
    if (route.responseField === undefined) return json;
    return json[route.responseField.jsonName] ?? null;
  }

  async function unary(route: RestRoute, req: AnyRequest, res: AnyResponse, request: Message): Promise<void> {
    const method = route.method as DescMethodUnary;
    // A caller that hangs up cancels the call (the handler's signal), as for an RPC.
    const abort = new AbortController();
    (res as NodeJS.EventEmitter).once("close", () => abort.abort());
    const response = await unaryTransport.unary(method, abort.signal, undefined, forwardedHeaders(req), request);
    const text = JSON.stringify(responseJson(route, method.output, response.message));
    res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
    res.end(text);
  }

  async function stream(route: RestRoute, req: AnyRequest, res: AnyResponse, request: Message): Promise<void> {
    const method = route.method as DescMethodServerStreaming;
    const abort = new AbortController();
    (res as NodeJS.EventEmitter).once("close", () => abort.abort());
    let admitted!: () => void;
    const admission = new Promise<void>((resolve) => (admitted = resolve));
    const contextValues = createContextValues().set(streamAdmittedKey, admitted);
    const call = transportWith(contextValues).stream(method, abort.signal, undefined, forwardedHeaders(req), (async function* () {
      yield request;
    })());
    await serveEventStream({
      res,
      admission,
      call,
      toJson: (message) => responseJson(route, method.output, message),
      idOf: eventIdReader(method.output),
      errorJson: (error) => restError(error, registry),
      keepAliveMs: options.keepAliveMs ?? 15_000,
      onFailure: (error) => failWith(res, error),
    });
  }

  async function serveRoute(req: AnyRequest, res: AnyResponse, url: string, q: number, path: string): Promise<void> {
    const match = table.match(req.method ?? "GET", path);
    if (match.kind === "not_found") {
      fail(res, 404, { code: Code.NotFound, message: `no route for ${req.method} ${path}`, details: [] });
      return;
    }
    if (match.kind === "method_not_allowed") {
      fail(res, 405, { code: Code.Unimplemented, message: `${req.method} is not allowed on ${path}; allowed: ${match.allow.join(", ")}`, details: [] }, { allow: match.allow.join(", ") });
      return;
    }
    const { route, pathValues } = match;
    try {
      const request = await bind(route, req, pathValues, new URLSearchParams(q < 0 ? "" : url.slice(q + 1)));
      if (route.method.methodKind === "server_streaming") {
        // Last-Event-ID (an EventSource reconnecting) resumes where the client left off.
        const lastEventId = req.headers["last-event-id"];
        const resume = route.method.input.fields.find((f) => f.name === "after_event_id" && f.fieldKind === "scalar");
        if (typeof lastEventId === "string" && lastEventId !== "" && resume !== undefined) {
          const fields = request as unknown as Record<string, unknown>;
          // The header wins over the query: a reconnecting EventSource repeats the URL it started with.
          fields[resume.localName] = lastEventId;
        }
        await stream(route, req, res, request);
      } else {
        await unary(route, req, res, request);
      }
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        // 413, not the 429 of ResourceExhausted: nothing to retry later.
        fail(res, 413, statusJson(error.status, registry));
        return;
      }
      if (!(error instanceof ConnectError)) options.logger.error({ err: error, path }, "REST route failed");
      failWith(res, error instanceof ConnectError ? error : new ConnectError("internal error", Code.Internal));
    }
  }

  return {
    table,
    async serve(req, res) {
      const url = req.url ?? "/";
      const q = url.indexOf("?");
      const path = q < 0 ? url : url.slice(0, q);
      if (path === "/openapi.json" && options.openapi !== undefined && (req.method === "GET" || req.method === "HEAD")) {
        res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(options.openapi), "cache-control": "no-cache" });
        if (req.method === "HEAD") res.end();
        else res.end(options.openapi);
        return true;
      }
      if (!table.prefixes.has(path.split("/")[1] ?? "")) return false;
      try {
        await serveRoute(req, res, url, q, path);
      } finally {
        // Answered before the body was read (404, 405, 413…): keep the connection usable.
        discardUnreadBody(req);
      }
      return true;
    },
  };

}

/** Not a ConnectError subclass: ConnectError's `instanceof` matches any ConnectError-shaped value. */
class BodyTooLarge extends Error {
  readonly status = new ConnectError(this.message, Code.ResourceExhausted);
}

function invalidArgument(error: BindError): ConnectError {
  // The same details as the validation interceptor's: ErrorInfo, then BadRequest field violations.
  return connectError(Code.InvalidArgument, "INVALID_ARGUMENT", error.message, error.violations);
}
