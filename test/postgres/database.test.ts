import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { openDatabase, queryRows, type DatabaseHandle } from "../../src/adapters/postgres/index.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

let testDb: TestDatabase;
let handle: DatabaseHandle;

beforeAll(async () => {
  testDb = await createTestDatabase("database");
  handle = await openDatabase({ databaseUrl: testDb.url, dataDir: "unused" });
});

afterAll(async () => {
  await handle?.close();
  await testDb?.drop();
});

describe("openDatabase", () => {
  it("when a DATABASE_URL is given, then it connects through postgres.js and ping answers", async () => {
    expect(handle.kind).toBe("postgres");
    await expect(handle.ping()).resolves.toBeUndefined();
    const [row] = await queryRows<{ db: string }>(handle.db, sql`select current_database() as db`);
    expect(row?.db).toBe(testDb.name);
  });

  it("when the database cannot be reached, then ping rejects", async () => {
    const unreachable = await openDatabase({ databaseUrl: "postgres://postgres@127.0.0.1:1/none", dataDir: "unused" });
    try {
      await expect(unreachable.ping(2_000)).rejects.toThrow();
    } finally {
      await unreachable.close();
    }
  });

  it("when close is called twice, then the second call is harmless", async () => {
    const other = await openDatabase({ databaseUrl: testDb.url, dataDir: "unused" });
    await other.ping();
    await other.close();
    await expect(other.close()).resolves.toBeUndefined();
  });
});
