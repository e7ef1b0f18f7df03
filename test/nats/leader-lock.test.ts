import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { openDatabase, queryRows } from "../../src/adapters/postgres/index.js";
import { inProcessLeaderLock, LeaderRole, postgresLeaderLock, type LeaderLock } from "../../src/adapters/postgres/db/leader-lock.js";
import { adminUrl, createTestDatabase, type TestDatabase } from "../support/database.js";
import { eventually } from "../kit/eventually.js";

let database: TestDatabase;
const locks: LeaderLock[] = [];

beforeAll(async () => {
  database = await createTestDatabase("leader_lock");
});

afterAll(async () => {
  await Promise.all(locks.map((l) => l.close()));
  await database?.drop();
});

function lock(): LeaderLock {
  const created = postgresLeaderLock({ databaseUrl: database.url, role: LeaderRole.outboxRelay });
  locks.push(created);
  return created;
}

async function terminateHolder(): Promise<number> {
  const admin = await openDatabase({ databaseUrl: adminUrl(), dataDir: "unused" });
  try {
    const rows = await queryRows<{ done: boolean }>(
      admin.db,
      sql`select pg_terminate_backend(l.pid) as done from pg_locks l join pg_stat_activity a on a.pid = l.pid
           where a.datname = ${database.name} and l.locktype = 'advisory' and l.granted`,
    );
    return rows.length;
  } finally {
    await admin.close();
  }
}

describe("postgres leader lock", () => {
  it("when two replicas try, then one leads, and the other leads once the first releases", async () => {
    const [a, b] = [lock(), lock()];
    const leaseA = await a.tryAcquire();
    expect(leaseA).toBeDefined();
    expect(await b.tryAcquire()).toBeUndefined();
    expect(await leaseA!.confirm()).toBe(true);

    await leaseA!.release();
    expect(leaseA!.lost.aborted).toBe(true);
    const leaseB = await b.tryAcquire();
    expect(leaseB).toBeDefined();
    await leaseB!.release();
  });

  it("when the holder's session is terminated, then its lease is lost and another replica can lead", async () => {
    const [a, b] = [lock(), lock()];
    const leaseA = await a.tryAcquire();
    expect(leaseA).toBeDefined();

    expect(await terminateHolder()).toBe(1);
    await eventually("the lease to be lost", async () => (leaseA!.lost.aborted ? true : undefined), { retryErrors: true });
    expect(await leaseA!.confirm()).toBe(false);

    const leaseB = await eventually("b to lead", async () => b.tryAcquire(), { retryErrors: true });
    expect(await leaseB.confirm()).toBe(true);
    // The deposed holder may compete again, on a fresh session: it does not get the lock while b holds it.
    expect(await a.tryAcquire()).toBeUndefined();
    await leaseB.release();
  });
});

describe("in-process leader lock (embedded PGlite)", () => {
  it("when two relays in one process try, then only one leads until it releases", async () => {
    const [a, b] = [inProcessLeaderLock(LeaderRole.outboxRelay), inProcessLeaderLock(LeaderRole.outboxRelay)];
    const leaseA = await a.tryAcquire();
    expect(leaseA).toBeDefined();
    expect(await b.tryAcquire()).toBeUndefined();
    await leaseA!.release();
    const leaseB = await b.tryAcquire();
    expect(leaseB).toBeDefined();
    await b.close();
    expect(leaseB!.lost.aborted).toBe(true);
    await a.close();
  });
});
