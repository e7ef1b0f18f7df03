/**
 * What the examples share: where the service is, who calls it, and small
 * promise wrappers over @grpc/grpc-js callbacks. Everything is configurable
 * by environment so the same scripts run against `npm start` on a laptop
 * and against a deployed service:
 *
 *   WHATSAPP_URL     http://127.0.0.1:8000 (https://… uses TLS)
 *   WHATSAPP_TOKEN   bearer token (AUTH_MODE=jwt); unset → x-tenant-id is sent
 *   WHATSAPP_TENANT  acme (the tenant when there is no token)
 *   NATS_URL         nats://127.0.0.1:4222
 *   NATS_STREAM      WHATSAPP
 */
import { credentials, Metadata, type CallOptions, type ChannelCredentials, type ClientUnaryCall, type ServiceError } from "@grpc/grpc-js";

export interface ExampleConfig {
  url: URL;
  token: string | undefined;
  tenant: string;
  natsUrl: string;
  natsStream: string;
}

export function loadExampleConfig(env: NodeJS.ProcessEnv = process.env): ExampleConfig {
  return {
    url: new URL(env.WHATSAPP_URL || "http://127.0.0.1:8000"),
    token: env.WHATSAPP_TOKEN || undefined,
    tenant: env.WHATSAPP_TENANT || "acme",
    natsUrl: env.NATS_URL || "nats://127.0.0.1:4222",
    natsStream: env.NATS_STREAM || "WHATSAPP",
  };
}

/** `host:port` and credentials for a grpc-js client of the configured URL. */
export function grpcTarget(config: ExampleConfig): { address: string; credentials: ChannelCredentials } {
  const tls = config.url.protocol === "https:";
  const port = config.url.port || (tls ? "443" : "80");
  return { address: `${config.url.hostname}:${port}`, credentials: tls ? credentials.createSsl() : credentials.createInsecure() };
}

/** The caller's identity as gRPC metadata: the bearer token, or the tenant header where auth is off. */
export function callerMetadata(config: ExampleConfig): Metadata {
  const metadata = new Metadata();
  if (config.token) metadata.set("authorization", `Bearer ${config.token}`);
  else metadata.set("x-tenant-id", config.tenant);
  return metadata;
}

/** A grpc-js unary method in its (request, metadata, options, callback) form — the last overload ts-proto generates. */
export type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

/**
 * Calls a unary method and returns its response as a promise. Every call
 * gets a deadline: without one a grpc-js call can wait forever on a peer
 * that stopped answering.
 */
export function unary<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, metadata: Metadata, timeoutMs = 5_000): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(request, metadata, { deadline: new Date(Date.now() + timeoutMs) }, (error, response) => (error ? reject(error) : resolve(response)));
  });
}

/** One JSON line on stdout per step, so people read along and tests parse it. */
export function report(step: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ step, ...fields }, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}\n`);
}

/** `--name value` from argv. */
export function flag(name: string, argv: readonly string[] = process.argv.slice(2)): string | undefined {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? argv[at + 1] : undefined;
}
