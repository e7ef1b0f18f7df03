/**
 * The service's spans, over the OpenTelemetry API only (no SDK import): when
 * tracing is off the API's no-op tracer answers and all of this costs next to
 * nothing.
 *
 * Attributes are low-cardinality and never carry message content, phone
 * numbers, tokens or statement parameters.
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanOptions,
} from "@opentelemetry/api";

export { SpanKind, SpanStatusCode, context, trace, type Attributes, type Context, type Link, type Span };

export const tracer = trace.getTracer("whatsapp-service");

/**
 * Runs `fn` inside a new span (active for everything `fn` awaits) and ends it
 * when `fn` settles; a throw marks the span as an error and is rethrown.
 */
export async function inSpan<T>(name: string, options: SpanOptions & { parent?: Context }, fn: (span: Span) => Promise<T>): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer.startSpan(name, options, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    markError(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Records `error` on `span` (name and message only: no payloads). */
export function markError(span: Span, error: unknown, message?: string): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: message ?? (error instanceof Error ? error.message : String(error)) });
  if (error instanceof Error) span.recordException({ name: error.name, message: error.message });
}

/** True when a span is active here (so child spans, e.g. database statements, belong to a trace). */
export function hasActiveSpan(): boolean {
  return trace.getActiveSpan()?.isRecording() ?? false;
}

/** A context carrying what `headers` propagate (W3C `traceparent`/`tracestate`), rooted at nothing else. */
export function contextFromHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): Context {
  return propagation.extract(ROOT_CONTEXT, headers, {
    get: (carrier, key) => carrier[key],
    keys: (carrier) => Object.keys(carrier),
  });
}

/** A context whose remote parent is `traceparent` (stored with a queued row); the root context for null. */
export function contextFromTraceparent(traceparent: string | null | undefined, tracestate?: string | null): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return contextFromHeaders(tracestate ? { traceparent, tracestate } : { traceparent });
}

/**
 * The W3C `traceparent` of the active span, to store with queued work or send
 * on: undefined when no span is active (tracing off, or outside a trace).
 */
export function currentTraceparent(ctx: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent;
}

/** A span link to the trace `traceparent` names (for work that was queued by it); undefined when there is none. */
export function linkTo(traceparent: string | null | undefined): Link | undefined {
  const spanContext = trace.getSpanContext(contextFromTraceparent(traceparent));
  return spanContext && trace.isSpanContextValid(spanContext) ? { context: spanContext } : undefined;
}
