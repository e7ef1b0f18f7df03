import { trace } from "@opentelemetry/api";
import { pino, type Logger } from "pino";

export type { Logger };

/**
 * Paths pino blanks out wherever they appear in a logged object. Credentials
 * are write-only in the API; this is the second line of defence in case one
 * reaches a log call anyway (a request body, an error's context).
 */
export const REDACTED_PATHS = [
  "authorization",
  "*.authorization",
  "headers.authorization",
  "req.headers.authorization",
  'headers["x-hub-signature-256"]',
  "credentials",
  "*.credentials",
  "*.*.credentials",
  "accessToken",
  "*.accessToken",
  "access_token",
  "*.access_token",
  "appSecret",
  "*.appSecret",
  "app_secret",
  "*.app_secret",
  "verifyToken",
  "*.verifyToken",
  "verify_token",
  "*.verify_token",
  "twilioAuthToken",
  "*.twilioAuthToken",
  "encryptionKey",
  "*.encryptionKey",
  "password",
  "*.password",
];

export interface LoggerOptions {
  level: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read the lines back. */
  destination?: NodeJS.WritableStream;
  /** Pretty output for people; JSON otherwise. Defaults to "stdout is a terminal". */
  pretty?: boolean;
}

export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.pretty ?? (options.destination === undefined && process.stdout.isTTY === true);
  const base = {
    level: options.level,
    base: { service: "whatsapp-service" },
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    mixin: traceFields,
  };
  if (pretty) {
    return pino({ ...base, transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l" } } });
  }
  return options.destination ? pino(base, options.destination) : pino(base);
}

/**
 * `trace_id` and `span_id` of the span active where the line is written, so
 * a log line can be found from its trace and the other way round. With
 * tracing off no context is ever active and lines are as they were.
 */
export function traceFields(): Record<string, string> {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}
