/**
 * Boots the real service (same `startService` as main.ts) on port 0 against a
 * fresh PostgreSQL database, with a logger whose lines the test can read back,
 * and builds generated clients over each protocol.
 */
import { randomBytes } from "node:crypto";
import { PassThrough } from "node:stream";
import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { SignJWT } from "jose";
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

export interface TestServiceOptions {
  database?: TestDatabase;
  /**
   * `none` (default): the tenant comes from `x-tenant-id` (clientFor's tenant).
   * `jwt`: bearer tokens from `mintToken()` (HS256 with TEST_JWT_SECRET, issuer
   * TEST_JWT_ISSUER, audience TEST_JWT_AUDIENCE); `env` may add AUTH_JWKS_URL etc.
   */
  auth?: "none" | "jwt";
  env?: Record<string, string>;
  overrides?: ContextOverrides;
}

/** The HS256 secret, issuer and audience a `startTestService({ auth: "jwt" })` service checks. */
export const TEST_JWT_SECRET = "test-secret-for-hs256-at-least-32-bytes-long";
export const TEST_JWT_ISSUER = "https://iam.test.local";
export const TEST_JWT_AUDIENCE = "whatsapp-service";

const AUTH_ENV: Record<"none" | "jwt", Record<string, string>> = {
  none: { AUTH_MODE: "none", AUTH_ALLOW_NONE_WITH_DATABASE: "true" },
  jwt: { AUTH_MODE: "jwt", AUTH_JWT_SECRET: TEST_JWT_SECRET, AUTH_JWT_ISSUER: TEST_JWT_ISSUER, AUTH_JWT_AUDIENCE: TEST_JWT_AUDIENCE },
};

export async function startTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const database = options.database ?? (await createTestDatabase("svc"));
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_URL: database.url,
    ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    ...AUTH_ENV[options.auth ?? "none"],
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

export interface TokenClaims {
  tenantId: string;
  permissions?: readonly string[];
  subject?: string;
  /** Seconds from now; negative for an expired token. Default 300. */
  expiresInSeconds?: number;
  /** Seconds from now before which the token is not valid (nbf). */
  notBeforeSeconds?: number;
  issuer?: string;
  audience?: string;
  /** Default TEST_JWT_SECRET. */
  secret?: string | Uint8Array;
}

/** Every permission of the access table. */
export const ALL_PERMISSIONS = ["whatsapp:admin", "whatsapp:send", "whatsapp:read", "whatsapp:verify"] as const;

/** An HS256 bearer token that a `startTestService({ auth: "jwt" })` service accepts (unless told otherwise). */
export async function mintToken(claims: TokenClaims): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ tenant_id: claims.tenantId, permissions: [...(claims.permissions ?? ALL_PERMISSIONS)] })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(claims.subject ?? "test-caller")
    .setIssuer(claims.issuer ?? TEST_JWT_ISSUER)
    .setAudience(claims.audience ?? TEST_JWT_AUDIENCE)
    .setIssuedAt(now)
    .setJti(randomBytes(8).toString("hex"))
    .setExpirationTime(now + (claims.expiresInSeconds ?? 300));
  if (claims.notBeforeSeconds !== undefined) jwt.setNotBefore(now + claims.notBeforeSeconds);
  const secret = claims.secret ?? TEST_JWT_SECRET;
  return jwt.sign(typeof secret === "string" ? new TextEncoder().encode(secret) : secret);
}

/** Sends `authorization: Bearer <token>` on every call. */
export function bearer(token: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
}

/** A client that authenticates with `token` (AUTH_MODE=jwt); `extra` adds e.g. a tenantHeader. */
export function clientWithToken<S extends DescService>(
  service: S,
  baseUrl: string,
  token: string | undefined,
  protocol: Protocol = "grpc",
  extra: Interceptor[] = [],
): Client<S> {
  return createClient(service, transportFor(baseUrl, protocol, [...(token === undefined ? [] : [bearer(token)]), ...extra]));
}

export function clientFor<S extends DescService>(service: S, baseUrl: string, tenantId: string | undefined, protocol: Protocol = "grpc"): Client<S> {
  return createClient(service, transportFor(baseUrl, protocol, tenantId === undefined ? [] : [tenantHeader(tenantId)]));
}

/** A tenant id no other test (or earlier run) uses. */
export function uniqueTenant(label: string): string {
  return `${label}-${randomBytes(4).toString("hex")}`;
}
