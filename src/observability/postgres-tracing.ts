/**
 * Statement spans for postgres.js, which has no OpenTelemetry
 * instrumentation: the client is wrapped so every `unsafe` call (all of
 * drizzle's statements and our prepared hot-path ones go through it, inside
 * transactions and savepoints too) opens a CLIENT span while a traced request
 * or job is active. Outside a trace nothing is recorded (the workers' idle
 * polling would otherwise be a root trace per poll).
 *
 * The span carries the statement text as sent — placeholders (`$1`) only,
 * never the parameter values — trimmed to 2 KiB.
 *
 * The wrapper also gives each `begin` its after-commit scope (after-commit.ts),
 * where what the transaction recorded is counted once it committed.
 */
import type { Sql } from "postgres";

import { withCommitScope } from "./after-commit.js";
import type { ServiceMetrics } from "./metrics.js";
import { context, markError, SpanKind, trace, tracer } from "./spans.js";

const MAX_STATEMENT_CHARS = 2048;

/** The statement's first keyword (`SELECT`, `INSERT`, `WITH`, …), for the span name. */
export function operationOf(statement: string): string {
  const match = /^\s*(?:\/\*[\s\S]*?\*\/\s*)*([A-Za-z]+)/.exec(statement);
  return match ? match[1]!.toUpperCase() : "QUERY";
}

function statementText(statement: string): string {
  const text = statement.replace(/\s+/g, " ").trim();
  return text.length > MAX_STATEMENT_CHARS ? `${text.slice(0, MAX_STATEMENT_CHARS)}…` : text;
}

interface Thenable {
  then(onFulfilled: (value: unknown) => unknown, onRejected: (error: unknown) => unknown): unknown;
}

type AnyFn = (...args: unknown[]) => unknown;

function traceUnsafe(unsafe: AnyFn, self: unknown): AnyFn {
  return (...args: unknown[]) => {
    const parent = trace.getActiveSpan();
    if (!parent?.isRecording()) return unsafe.apply(self, args);
    const statement = typeof args[0] === "string" ? args[0] : "";
    const operation = operationOf(statement);
    const span = tracer.startSpan(
      operation,
      {
        kind: SpanKind.CLIENT,
        attributes: { "db.system.name": "postgresql", "db.system": "postgresql", "db.operation.name": operation, "db.query.text": statementText(statement) },
      },
      context.active(),
    );
    const query = unsafe.apply(self, args) as Thenable;
    // postgres.js runs a query when it is first awaited, one tick after this
    // call, so drizzle's `.values()` right after `unsafe()` still applies.
    query.then(
      () => span.end(),
      (error: unknown) => {
        markError(span, error);
        span.end();
      },
    );
    return query;
  };
}

/** Wraps `begin(fn)` / `begin(options, fn)` and `savepoint(fn)` so the callback gets a wrapped client too. */
function traceTransactional(method: AnyFn, self: unknown, options: InstrumentOptions, commitScope: boolean): AnyFn {
  return (...args: unknown[]) => {
    const at = args.findIndex((a) => typeof a === "function");
    if (at === -1) return method.apply(self, args);
    const fn = args[at] as (client: Sql) => unknown;
    if (!commitScope) {
      const wrapped = [...args];
      wrapped[at] = (client: Sql) => fn(instrumentPostgres(client, options));
      return method.apply(self, wrapped);
    }
    return withCommitScope(options.metrics, (run) => {
      const wrapped = [...args];
      wrapped[at] = (client: Sql) => run(() => fn(instrumentPostgres(client, options)));
      return method.apply(self, wrapped) as Promise<unknown>;
    });
  };
}

export interface InstrumentOptions {
  /** Where the counts queued in its transactions go (after-commit.ts). */
  metrics?: ServiceMetrics | undefined;
}

/**
 * PGlite (embedded mode): no statement spans, but its transactions get the
 * after-commit scope too, so the message counters work there as well.
 */
export function instrumentPglite<T extends { transaction: (...args: never[]) => Promise<unknown> }>(client: T, options: InstrumentOptions): T {
  return new Proxy(client, {
    get(target, property) {
      // The target as receiver: PGlite's getters read its private fields.
      const value: unknown = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      if (property === "transaction") {
        return (...args: unknown[]) => withCommitScope(options.metrics, (run) => (value as AnyFn).apply(target, args.map((a) => (typeof a === "function" ? (...inner: unknown[]) => run(() => (a as AnyFn)(...inner)) : a))) as Promise<unknown>);
      }
      return (value as AnyFn).bind(target);
    },
  });
}

const instrumented = new WeakSet<object>();

/** The same client, with statement spans and after-commit scopes. */
export function instrumentPostgres<T extends Sql>(client: T, options: InstrumentOptions = {}): T {
  if (instrumented.has(client)) return client;
  const proxy = new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      if (property === "unsafe") return traceUnsafe(value as AnyFn, target);
      if (property === "begin") return traceTransactional(value as AnyFn, target, options, true);
      if (property === "savepoint") return traceTransactional(value as AnyFn, target, options, false);
      return value;
    },
  });
  instrumented.add(proxy);
  return proxy;
}
