import { Code, ConnectError, type Interceptor, type StreamResponse, type UnaryResponse } from "@connectrpc/connect";

import { OtpOutcome, OtpService } from "../../../gen/whatsapp/v1/otp_pb.js";
import type { ServiceMetrics } from "../../observability/metrics.js";
import { context, contextFromHeaders, markError, SpanKind, SpanStatusCode, trace, tracer } from "../../observability/spans.js";

/** `Code` as the canonical gRPC status names (`OK`, `INVALID_ARGUMENT`, …): the metric label and span attribute. */
export function codeName(code: Code | undefined): string {
  if (code === undefined) return "OK";
  return (Code[code] ?? "UNKNOWN").replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

/**
 * A server span and the RPC metrics for every call, whatever the protocol
 * (Connect, gRPC, gRPC-Web, REST through the in-memory transport):
 * `instrumentation-http` would see only HTTP/1.1 requests, and no OTel
 * package instruments connect-es.
 *
 * - The caller's `traceparent` (W3C) is the parent; the span is active for
 *   the handler, so its database statements, Graph API calls and log lines
 *   belong to the same trace.
 * - rpc.* semantic conventions: `rpc.system` = `connect_rpc`, `rpc.service`,
 *   `rpc.method`, and the final code as `rpc.connect_rpc.error_code` /
 *   `rpc.grpc.status_code` (its number) — the code the caller got, taken
 *   after the logging interceptor normalised the error (this one runs first,
 *   so it is outermost).
 * - Server streams (WatchEvents) are timed to their end: the span, the
 *   duration and the count are recorded when the stream finishes, fails or
 *   the caller goes away (CANCELLED).
 */
export function createTelemetryInterceptor(metrics: ServiceMetrics): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const service = req.service.typeName;
    const method = req.method.name;
    const parent = contextFromHeaders(Object.fromEntries(req.header.entries()));
    const span = tracer.startSpan(
      `${service}/${method}`,
      {
        kind: SpanKind.SERVER,
        attributes: { "rpc.system": "connect_rpc", "rpc.service": service, "rpc.method": method },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    const isWatch = method === "WatchEvents";
    if (isWatch) metrics.watchEventsStreams.inc();
    let done = false;
    const finish = (error: unknown) => {
      if (done) return;
      done = true;
      const code = error === undefined ? undefined : ConnectError.from(error).code;
      const name = codeName(code);
      metrics.rpcRequests.inc({ rpc_service: service, rpc_method: method, code: name });
      metrics.rpcDuration.observe({ rpc_service: service, rpc_method: method, code: name }, (performance.now() - started) / 1000);
      if (isWatch) metrics.watchEventsStreams.dec();
      span.setAttribute("rpc.grpc.status_code", code ?? 0);
      if (code !== undefined) {
        span.setAttribute("rpc.connect_rpc.error_code", name.toLowerCase());
        // Server spans are errors for server faults only; a refused request is the caller's (semantic conventions).
        if (serverFault(code)) markError(span, error, ConnectError.from(error).rawMessage);
        else span.setStatus({ code: SpanStatusCode.UNSET });
      }
      span.end();
    };

    let response: UnaryResponse | StreamResponse;
    try {
      response = await context.with(active, () => next(req));
    } catch (error) {
      finish(error);
      throw error;
    }
    if (!response.stream) {
      finish(undefined);
      if (service === OtpService.typeName) countOtp(metrics, method, req.message, response.message);
      return response;
    }
    return { ...response, message: timedStream(response.message, active, finish) };
  };
}

/**
 * The OTP counters, read off OtpService's answers at the edge (the core has
 * no metrics): a SendOtp that succeeded sent a code; a VerifyOtp answers an
 * outcome, VERIFIED or the reason it failed (a bounded enum).
 */
function countOtp(metrics: ServiceMetrics, method: string, request: unknown, response: unknown): void {
  const accountId = field(request, "accountId") || "unspecified";
  if (method === OtpService.method.sendOtp.name) metrics.otpSent.inc({ account_id: accountId });
  if (method !== OtpService.method.verifyOtp.name) return;
  const outcome = (response as { outcome?: unknown } | null)?.outcome;
  if (outcome === OtpOutcome.VERIFIED) metrics.otpVerified.inc({ account_id: accountId });
  else if (typeof outcome === "number") metrics.otpFailed.inc({ reason: (OtpOutcome[outcome] ?? "unspecified").toLowerCase() });
}

function field(message: unknown, name: string): string {
  const value = (message as Record<string, unknown> | null)?.[name];
  return typeof value === "string" ? value : "";
}

function serverFault(code: Code): boolean {
  return code === Code.Internal || code === Code.Unknown || code === Code.DataLoss || code === Code.Unavailable || code === Code.DeadlineExceeded || code === Code.Unimplemented;
}

/** The stream, iterated inside the span's context, recording its end (normal, failed or abandoned). */
function timedStream<T>(source: AsyncIterable<T>, active: ReturnType<typeof trace.setSpan>, finish: (error: unknown) => void): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const it = source[Symbol.asyncIterator]();
      return {
        async next() {
          try {
            const result = await context.with(active, () => it.next());
            if (result.done) finish(undefined);
            return result;
          } catch (error) {
            finish(error);
            throw error;
          }
        },
        async return(value?: unknown) {
          // The caller went away (or the server is draining) before the stream ended.
          finish(new ConnectError("stream abandoned", Code.Canceled));
          return (await it.return?.(value)) ?? { done: true as const, value: undefined };
        },
        async throw(error?: unknown) {
          finish(error);
          if (it.throw) return it.throw(error);
          throw error;
        },
      };
    },
  };
}
