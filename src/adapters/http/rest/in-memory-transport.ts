import { createAsyncIterable, type UniversalClientFn, type UniversalHandler } from "@connectrpc/connect/protocol";
import { createTransport } from "@connectrpc/connect/protocol-connect";
import type { ContextValues, Transport } from "@connectrpc/connect";

/**
 * A Connect transport that calls the server's own handlers in memory — the
 * very handlers the Connect adapter serves, so a REST call passes the same
 * interceptors (logging, audit, auth, tenancy, rate limits, validation) as a
 * gRPC or Connect call. Like connect's `createRouterTransport`, but the
 * caller's context values reach the server side (the stock in-memory client
 * drops them), which lets the REST layer learn when a stream was admitted.
 */
export function createInMemoryTransport(handlers: readonly UniversalHandler[]): (contextValues: ContextValues | undefined) => Transport {
  const byPath = new Map(handlers.map((h) => [h.requestPath, h]));
  const client =
    (contextValues: ContextValues | undefined): UniversalClientFn =>
    async (request) => {
      const path = new URL(request.url).pathname;
      const handler = byPath.get(path);
      if (handler === undefined) throw new Error(`no handler for ${path}`);
      const response = await handler({
        body: request.body ?? createAsyncIterable([]),
        httpVersion: "2.0",
        method: request.method,
        url: request.url,
        header: request.header,
        signal: request.signal ?? new AbortController().signal,
        contextValues,
      });
      return {
        status: response.status,
        header: new Headers(response.header),
        body: response.body ?? createAsyncIterable([]),
        trailer: new Headers(response.trailer),
      };
    };
  return (contextValues) =>
    createTransport({
      httpClient: client(contextValues),
      baseUrl: "http://in-memory",
      // Binary between the REST layer and the handlers: no second JSON pass.
      useBinaryFormat: true,
      interceptors: [],
      acceptCompression: [],
      sendCompression: null,
      compressMinBytes: Number.MAX_SAFE_INTEGER,
      readMaxBytes: Number.MAX_SAFE_INTEGER,
      writeMaxBytes: Number.MAX_SAFE_INTEGER,
    });
}
