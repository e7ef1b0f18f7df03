/**
 * Boots the real service (same `startService` as main.ts) on port 0 against a
 * fresh PostgreSQL database, with a logger whose lines the test can read back,
 * and builds generated clients over each protocol.
 */
import { randomBytes } from "node:crypto";
import { PassThrough } from "node:stream";
import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { loadConfig } from "../../src/config.js";
import type { ContextOverrides } from "../../src/context.js";
import { createLogger } from "../../src/observability/logger.js";
import { startService, type RunningService } from "../../src/server.js";
import { createTestDatabase, type TestDatabase } from "./database.js";

export interface TestService {
  service: RunningService;
  database: TestDatabase;
  /** Every log line written so far (raw JSON text). */
  logText(): string;
  /** Stops the service; the database stays (for a restart) until `cleanup`. */
  stop(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function startTestService(
  options: { database?: TestDatabase; env?: Record<string, string>; overrides?: ContextOverrides } = {},
): Promise<TestService> {
  const database = options.database ?? (await createTestDatabase("svc"));
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_URL: database.url,
    ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    AUTH_MODE: "none",
    LOG_LEVEL: "debug",
    SHUTDOWN_GRACE_MS: "2000",
    ...options.env,
  });
  const lines: string[] = [];
  const sink = new PassThrough();
  sink.on("data", (chunk: Buffer) => lines.push(chunk.toString("utf8")));
  const logger = createLogger({ level: config.logLevel, destination: sink, pretty: false });
  const service = await startService(config, logger, options.overrides);
  return {
    service,
    database,
    logText: () => lines.join(""),
    stop: () => service.stop(),
    async cleanup() {
      await service.stop();
      await database.drop();
    },
  };
}

export type Protocol = "connect-json-h1" | "connect-binary-h2" | "grpc" | "grpc-web";

const sessions: Http2SessionManager[] = [];

export function transportFor(baseUrl: string, protocol: Protocol, interceptors: Interceptor[] = []): Transport {
  switch (protocol) {
    case "connect-json-h1":
      return createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: false, interceptors });
    case "connect-binary-h2": {
      const sessionManager = new Http2SessionManager(baseUrl);
      sessions.push(sessionManager);
      return createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true, interceptors, sessionManager });
    }
    case "grpc": {
      const sessionManager = new Http2SessionManager(baseUrl);
      sessions.push(sessionManager);
      return createGrpcTransport({ baseUrl, interceptors, sessionManager });
    }
    case "grpc-web":
      return createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors });
  }
}

/** Closes the HTTP/2 sessions clients opened, so servers can stop promptly. */
export function closeClientSessions(): void {
  for (const session of sessions.splice(0)) session.abort();
}

export function tenantHeader(tenantId: string): Interceptor {
  return (next) => (req) => {
    req.header.set("x-tenant-id", tenantId);
    return next(req);
  };
}

export function clientFor<S extends DescService>(service: S, baseUrl: string, tenantId: string | undefined, protocol: Protocol = "grpc"): Client<S> {
  return createClient(service, transportFor(baseUrl, protocol, tenantId === undefined ? [] : [tenantHeader(tenantId)]));
}

/** A tenant id no other test (or earlier run) uses. */
export function uniqueTenant(label: string): string {
  return `${label}-${randomBytes(4).toString("hex")}`;
}
