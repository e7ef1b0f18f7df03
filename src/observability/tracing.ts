/**
 * OpenTelemetry tracing, configured only by the standard `OTEL_*` variables.
 *
 * Off unless an exporter is configured: `OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set, or `OTEL_TRACES_EXPORTER`
 * names one (`otlp`, `console`). `OTEL_SDK_DISABLED=true` or
 * `OTEL_TRACES_EXPORTER=none` turn it off whatever else is set. Everything
 * else (protocol `http/protobuf` — the default — or `http/json`, headers,
 * sampler, resource attributes, batch sizes) is the SDK's own reading of the
 * environment; `OTEL_SERVICE_NAME` defaults to `whatsapp-service`.
 *
 * Only traces: metrics are Prometheus (prom-client, see metrics.ts) and logs
 * go to stdout with the trace id in them (logger.ts), so the SDK's metric
 * readers and log processors are configured empty instead of from the
 * environment. No instrumentation packages either: the spans are ours (RPC
 * interceptor, webhook edge, Graph API, database statements, NATS publish),
 * so nothing needs to patch modules before they load. The SDK is still
 * started before the service's modules are imported (`register.ts`, loaded
 * with `node --import`), so the context manager is in place before any
 * module captures the API's no-op globals.
 */
import { NodeSDK } from "@opentelemetry/sdk-node";

export interface TracingHandle {
  /** Flushes the spans still buffered and stops exporting. */
  shutdown(): Promise<void>;
}

type Env = Readonly<Record<string, string | undefined>>;

function set(env: Env, name: string): boolean {
  const value = env[name];
  return value !== undefined && value.trim() !== "";
}

/** Whether the environment asks for traces to be exported. */
export function tracingWanted(env: Env = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "");
  if (exporters.includes("none")) return false;
  return exporters.length > 0 || set(env, "OTEL_EXPORTER_OTLP_ENDPOINT") || set(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
}

let running: TracingHandle | undefined;

/**
 * Starts the SDK when the environment asks for it (once per process; later
 * calls return the same handle). Returns undefined when tracing is off: the
 * API's no-op tracer stays, spans cost nothing and logs carry no trace ids.
 */
export function startTracing(env: Env = process.env): TracingHandle | undefined {
  if (running) return running;
  if (!tracingWanted(env)) return undefined;
  const sdk = new NodeSDK({
    ...(set(env, "OTEL_SERVICE_NAME") ? {} : { serviceName: "whatsapp-service" }),
    instrumentations: [],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  let stopped: Promise<void> | undefined;
  running = {
    shutdown: () => (stopped ??= sdk.shutdown()),
  };
  return running;
}

/** Flushes and stops the SDK if it was started (shutdown path of main.ts). */
export async function shutdownTracing(): Promise<void> {
  await running?.shutdown();
}
