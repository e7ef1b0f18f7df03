/**
 * The hot-path statements (src/adapters/postgres/prepared-query.ts): named
 * prepared statements with one fixed text per call site, whatever the length
 * of the lists they carry; resolved in the tenant schema of the moment; the
 * same results on PGlite.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { sql } from "drizzle-orm";
import { pgSchema, text } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { openDatabase, queryRows, type Database, type DatabaseHandle } from "../../src/adapters/postgres/db/database.js";
import { hot, preparedRows } from "../../src/adapters/postgres/db/prepared-query.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

const tenantTwoLabels = pgSchema("tenant_two").table("labels", { label: text("label") });

/** One call site: the same text for any number of values. */
function squares(db: Database, values: number[]) {
  return preparedRows<{ n: number; square: number }>(db, hot`select n, n * n as square from unnest(${values}::int[]) as v (n) order by n /* squares-site */`);
}

/** One call site naming an unqualified table, resolved through search_path. */
function labels(db: Database) {
  return preparedRows<{ label: string }>(db, hot`select label from labels /* labels-site */`);
}

describe("prepared hot-path statements on PostgreSQL", () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    database = await createTestDatabase("prepared_query");
    handle = await openDatabase({ databaseUrl: database.url, dataDir: "unused" });
    await handle.db.execute(sql.raw(`create schema tenant_one; create table tenant_one.labels (label text); insert into tenant_one.labels values ('one')`));
    await handle.db.execute(sql.raw(`create schema tenant_two; create table tenant_two.labels (label text); insert into tenant_two.labels values ('two')`));
  });

  afterAll(async () => {
    await handle?.close();
    await database?.drop();
  });

  it("when a call site runs with lists of different lengths, then the results are right and the connection holds one prepared statement for it", async () => {
    const prepared = await handle.db.transaction(async (tx) => {
      expect(await squares(tx, [3])).toEqual([{ n: 3, square: 9 }]);
      expect(await squares(tx, [1, 2])).toEqual([
        { n: 1, square: 1 },
        { n: 2, square: 4 },
      ]);
      expect(await squares(tx, [])).toEqual([]);
      const rows = await queryRows<{ count: number }>(tx, sql`select count(*)::int as count from pg_prepared_statements where statement like '%squares-site%'`);
      return rows[0]?.count;
    });
    expect(prepared).toBe(1);
  });

  it("when search_path moves to another tenant between two uses, then the same prepared statement reads the new tenant's table", async () => {
    const seen = await handle.db.transaction(async (tx) => {
      await tx.execute(sql.raw(`set local search_path to tenant_one, pg_catalog`));
      const first = await labels(tx);
      await tx.execute(sql.raw(`set local search_path to tenant_two, pg_catalog`));
      const second = await labels(tx);
      return [first, second];
    });
    expect(seen).toEqual([[{ label: "one" }], [{ label: "two" }]]);
  });

  it("when a drizzle table is interpolated, then it is spelled schema-qualified into the text", async () => {
    const rows = await preparedRows<{ label: string }>(handle.db, hot`select label from ${tenantTwoLabels} where label = any(${["two", "three"]}::text[])`);
    expect(rows).toEqual([{ label: "two" }]);
  });
});

describe("prepared hot-path statements on PGlite", () => {
  let dir: string;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "prepared-query-"));
    handle = await openDatabase({ dataDir: dir });
  });

  afterAll(async () => {
    await handle?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("when the same statements run on PGlite, then they give the same rows", async () => {
    expect(await squares(handle.db, [2, 3])).toEqual([
      { n: 2, square: 4 },
      { n: 3, square: 9 },
    ]);
    expect(await squares(handle.db, [])).toEqual([]);
  });
});
