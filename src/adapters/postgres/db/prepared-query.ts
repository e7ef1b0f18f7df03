/**
 * Hot-path statements as named prepared statements, one round trip each.
 *
 * drizzle runs every query through postgres.js as an UNNAMED statement
 * (`prepare: false`), and postgres.js, to learn the parameter types it must
 * serialise, then sends Parse/Describe, waits for the answer, and only then
 * sends Bind/Execute: TWO round trips for any statement with a parameter.
 * On a loopback socket each round trip costs the process a write and a read
 * system call and an event-loop turn (~100 µs of CPU on the 2-core machine),
 * which made them the largest item of the inbound pipeline's profile.
 *
 * `preparedRows` sends the statement named instead: the first use on a
 * connection still describes it, every later use is one Bind/Execute. The
 * statement is written with the `hot` tag, whose text is built once per call
 * site (not per call, as drizzle's `sql` is): drizzle tables and `sql`
 * fragments without parameters are spelled into the text, every other
 * interpolated value is a parameter ($n) — lists go as ONE array parameter
 * (expanded with `unnest` / `= any`), so the text never varies with their
 * length and postgres.js keeps one prepared statement per call site and
 * connection. PostgreSQL re-plans a prepared statement when search_path
 * changed since it was planned, so the tenant tables a statement names always
 * resolve in the schema of the transaction's tenant.
 *
 * PGlite (one in-process connection, no round trips to save) runs the same
 * statement through drizzle.
 */
import { is, SQL, sql } from "drizzle-orm";
import { PgDialect, PgTable } from "drizzle-orm/pg-core";

import { queryRows, type Database } from "./database.js";

const dialect = new PgDialect();

/** A statement written with `hot`. */
export interface HotQuery {
  readonly strings: TemplateStringsArray;
  readonly values: readonly unknown[];
}

/**
 * Tags a hot-path statement: `${table}` and parameterless `${sql...}`
 * fragments become part of the text (they must be the same on every call
 * from that site); anything else is a parameter.
 */
export function hot(strings: TemplateStringsArray, ...values: unknown[]): HotQuery {
  return { strings, values };
}

interface Compiled {
  text: string;
  /** Which values are parameters, in $n order. */
  params: number[];
}

const compiledBySite = new WeakMap<TemplateStringsArray, Compiled>();

function isStatic(value: unknown): value is PgTable | SQL {
  return is(value, PgTable) || is(value, SQL);
}

function compile(query: HotQuery): Compiled {
  let compiled = compiledBySite.get(query.strings);
  if (compiled) return compiled;
  let text = query.strings[0]!;
  const params: number[] = [];
  query.values.forEach((value, i) => {
    if (isStatic(value)) {
      const fragment = dialect.sqlToQuery(sql`${value}`);
      if (fragment.params.length > 0) throw new Error("hot: an interpolated sql fragment must not carry parameters");
      text += fragment.sql;
    } else {
      params.push(i);
      text += `$${params.length}`;
    }
    text += query.strings[i + 1]!;
  });
  compiled = { text, params };
  compiledBySite.set(query.strings, compiled);
  return compiled;
}

interface PostgresJsClient {
  unsafe(query: string, params: unknown[], options: { prepare: boolean }): Promise<unknown>;
}

/** Runs `query` and returns its rows, like `queryRows`. */
export async function preparedRows<T extends Record<string, unknown>>(db: Database, query: HotQuery): Promise<T[]> {
  const client = postgresJsClientOf(db);
  if (!client) {
    const values = query.values.map((value) => (isStatic(value) ? value : sql.param(value)));
    return queryRows<T>(db, sql(query.strings, ...values));
  }
  const { text, params } = compile(query);
  return (await client.unsafe(
    text,
    params.map((i) => query.values[i]),
    { prepare: true },
  )) as T[];
}

/** The postgres.js client behind a drizzle database or transaction; undefined for other drivers. */
function postgresJsClientOf(db: Database): PostgresJsClient | undefined {
  const session = (db as unknown as { session?: { client?: Partial<PostgresJsClient> } }).session;
  const client = session?.client;
  return client && typeof client.unsafe === "function" ? (client as PostgresJsClient) : undefined;
}
