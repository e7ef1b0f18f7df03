import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createClient, createRouterTransport, type Client, type Transport } from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../../gen/grpc/health/v1/health_pb.js";
import { createHealthService, HealthStatus } from "./health.js";

function inMemoryClient(status: HealthStatus): Client<typeof Health> {
  return createClient(Health, createRouterTransport((router) => router.service(Health, createHealthService(status))));
}

/** Reads a stream one message at a time, so a test can act between messages. */
function reader<T>(stream: AsyncIterable<T>): () => Promise<IteratorResult<T>> {
  const it = stream[Symbol.asyncIterator]();
  return () => it.next();
}

describe("HealthStatus", () => {
  it("when created, then the whole server is SERVING and other services are unknown", () => {
    const status = new HealthStatus();
    expect(status.get("")).toBe(ServingStatus.SERVING);
    expect(status.get("whatsapp.v1.MessagingService")).toBeUndefined();
  });

  it("when shut down, then every service is NOT_SERVING and later sets are ignored", () => {
    const status = new HealthStatus();
    status.set("a", ServingStatus.SERVING);
    status.shutdown();
    status.set("a", ServingStatus.SERVING);
    expect(status.entries()).toEqual([
      ["", ServingStatus.NOT_SERVING],
      ["a", ServingStatus.NOT_SERVING],
    ]);
  });

  it("when a watch's signal aborts while it waits, then the watch ends", async () => {
    const status = new HealthStatus();
    const abort = new AbortController();
    const watch = status.watch("", abort.signal);
    expect(await watch.next()).toEqual({ done: false, value: ServingStatus.SERVING });
    const waiting = watch.next();
    abort.abort();
    expect(await waiting).toEqual({ done: true, value: undefined });
  });

  it("when the status changes twice before the watcher reads, then it gets only the latest", async () => {
    const status = new HealthStatus();
    const watch = status.watch("", new AbortController().signal);
    await watch.next();
    status.set("", ServingStatus.NOT_SERVING);
    status.set("", ServingStatus.SERVING);
    status.set("", ServingStatus.NOT_SERVING);
    expect(await watch.next()).toEqual({ done: false, value: ServingStatus.NOT_SERVING });
    await watch.return();
  });
});

describe("Health service (in memory)", () => {
  it("when Check asks for the server, then it answers SERVING", async () => {
    const client = inMemoryClient(new HealthStatus());
    expect((await client.check({ service: "" })).status).toBe(ServingStatus.SERVING);
  });

  it("when Check asks for an unknown service, then it fails with NOT_FOUND", async () => {
    const client = inMemoryClient(new HealthStatus());
    const error = await client.check({ service: "nope.v1.Nope" }).catch((e: unknown) => ConnectError.from(e));
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.NotFound);
  });

  it("when services have statuses, then List returns all of them", async () => {
    const status = new HealthStatus();
    status.set("whatsapp.v1.MessagingService", ServingStatus.NOT_SERVING);
    const response = await inMemoryClient(status).list({});
    expect(Object.fromEntries(Object.entries(response.statuses).map(([k, v]) => [k, v.status]))).toEqual({
      "": ServingStatus.SERVING,
      "whatsapp.v1.MessagingService": ServingStatus.NOT_SERVING,
    });
  });

  it("when a known service is watched, then the current status comes first, then each change, without repeats", async () => {
    const status = new HealthStatus();
    status.set("svc", ServingStatus.NOT_SERVING);
    const abort = new AbortController();
    const next = reader(inMemoryClient(status).watch({ service: "svc" }, { signal: abort.signal }));
    expect((await next()).value?.status).toBe(ServingStatus.NOT_SERVING);
    status.set("svc", ServingStatus.NOT_SERVING); // no change: not sent
    status.set("svc", ServingStatus.SERVING);
    expect((await next()).value?.status).toBe(ServingStatus.SERVING);
    status.set("svc", ServingStatus.NOT_SERVING);
    expect((await next()).value?.status).toBe(ServingStatus.NOT_SERVING);
    abort.abort();
    await expect(next()).rejects.toMatchObject({ code: Code.Canceled });
  });

  it("when an unknown service is watched, then SERVICE_UNKNOWN comes first and its status once it is set", async () => {
    const status = new HealthStatus();
    const abort = new AbortController();
    const next = reader(inMemoryClient(status).watch({ service: "later" }, { signal: abort.signal }));
    expect((await next()).value?.status).toBe(ServingStatus.SERVICE_UNKNOWN);
    status.set("later", ServingStatus.SERVING);
    expect((await next()).value?.status).toBe(ServingStatus.SERVING);
    abort.abort();
  });

  it("when the server shuts down, then watchers get NOT_SERVING and their streams end", async () => {
    const status = new HealthStatus();
    const client = inMemoryClient(status);
    const server = reader(client.watch({ service: "" }));
    const unknown = reader(client.watch({ service: "other" }));
    expect((await server()).value?.status).toBe(ServingStatus.SERVING);
    expect((await unknown()).value?.status).toBe(ServingStatus.SERVICE_UNKNOWN);
    status.shutdown();
    expect((await server()).value?.status).toBe(ServingStatus.NOT_SERVING);
    expect((await server()).done).toBe(true);
    expect((await unknown()).done).toBe(true);
    expect((await client.check({ service: "" })).status).toBe(ServingStatus.NOT_SERVING);
  });

  it("when a watch starts after shutdown, then it sends NOT_SERVING and ends", async () => {
    const status = new HealthStatus();
    status.shutdown();
    const messages = [];
    for await (const m of inMemoryClient(status).watch({ service: "" })) messages.push(m.status);
    expect(messages).toEqual([ServingStatus.NOT_SERVING]);
  });
});

describe("Health service (gRPC over HTTP/2)", () => {
  const status = new HealthStatus();
  let server: http2.Http2Server;
  let sessions: Http2SessionManager;
  let transport: Transport;

  let watchEnded: Promise<void>;

  beforeAll(async () => {
    const health = createHealthService(status);
    let ended: () => void = () => undefined;
    watchEnded = new Promise((resolve) => (ended = resolve));
    // Wraps Watch only to observe that the server side of the stream ends.
    const observed: typeof health = {
      ...health,
      async *watch(request, context) {
        try {
          yield* health.watch(request, context);
        } finally {
          ended();
        }
      },
    };
    server = http2.createServer(connectNodeAdapter({ routes: (router) => router.service(Health, observed) }));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const baseUrl = `http://127.0.0.1:${port}`;
    sessions = new Http2SessionManager(baseUrl);
    transport = createGrpcTransport({ baseUrl, sessionManager: sessions });
  });

  afterAll(async () => {
    sessions.abort();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("when the client cancels a Watch, then the server side of the stream ends", async () => {
    const abort = new AbortController();
    const next = reader(createClient(Health, transport).watch({ service: "" }, { signal: abort.signal }));
    expect((await next()).value?.status).toBe(ServingStatus.SERVING);
    abort.abort();
    await expect(next()).rejects.toMatchObject({ code: Code.Canceled });
    await watchEnded;
  });

  it("when Check and Watch are called over gRPC, then they answer and the watch ends on shutdown", async () => {
    const client = createClient(Health, transport);
    expect((await client.check({ service: "" })).status).toBe(ServingStatus.SERVING);
    await expect(client.check({ service: "nope" })).rejects.toMatchObject({ code: Code.NotFound });

    const next = reader(client.watch({ service: "" }));
    expect((await next()).value?.status).toBe(ServingStatus.SERVING);
    status.shutdown();
    expect((await next()).value?.status).toBe(ServingStatus.NOT_SERVING);
    expect((await next()).done).toBe(true);
  });
});
