import { PGlite } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../db/database.js";
import { migrate } from "../db/migrator.js";
import * as schema from "../schema/index.js";
import { webhookInbox } from "../schema/control.js";
import {
  InboxClosedError,
  InboxFullError,
  InboxWriteError,
  InboxWriter,
  InboxWriteTimeoutError,
  insertIntoWebhookInbox,
  type InboxRow,
  type InsertInboxRows,
} from "./inbox-writer.js";

let seq = 0;
function row(bytes = 10): InboxRow {
  seq++;
  return {
    id: `00000000-0000-7000-8000-${String(seq).padStart(12, "0")}`,
    provider: "meta",
    path: "/webhook",
    accountHint: null,
    headers: {},
    body: Buffer.alloc(bytes, 0x61),
    signatureValid: true,
    status: "pending",
  };
}

/** An insert the test finishes by hand: each call is one "commit" the test resolves or fails. */
function manualInsert() {
  const calls: { rows: InboxRow[]; commit: () => void; fail: (error: Error) => void }[] = [];
  const insert: InsertInboxRows = (rows) =>
    new Promise<void>((resolve, reject) => calls.push({ rows: [...rows], commit: resolve, fail: reject }));
  return { insert, calls };
}

/** Tracks whether a promise has settled, without awaiting it. */
function track(promise: Promise<void>) {
  const state = { settled: false, error: undefined as unknown };
  promise.then(
    () => (state.settled = true),
    (error: unknown) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}

/** Polls (one event-loop turn at a time) until `condition` holds; fails after a deadline. */
async function until(condition: () => boolean, what = "condition"): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("InboxWriter", () => {
  it("when one row is written at low load, then it is inserted at once and resolves only after that commit", async () => {
    const { insert, calls } = manualInsert();
    const writer = new InboxWriter(insert);
    const written = track(writer.write(row()));
    await until(() => calls.length === 1, "the insert");
    // In the INSERT but not committed: the caller must still be waiting.
    await new Promise((resolve) => setImmediate(resolve));
    expect(written.settled).toBe(false);
    calls[0]!.commit();
    await until(() => written.settled);
    expect(written.error).toBeUndefined();
  });

  it("when 100 rows arrive while a commit is running, then they share one INSERT and all resolve after it", async () => {
    const { insert, calls } = manualInsert();
    const writer = new InboxWriter(insert, { maxConcurrentFlushes: 1 });
    const first = writer.write(row());
    await until(() => calls.length === 1);
    const rest = Array.from({ length: 100 }, () => track(writer.write(row())));
    calls[0]!.commit();
    await first;
    await until(() => calls.length === 2, "the second insert");
    expect(calls[1]!.rows).toHaveLength(100);
    expect(rest.some((r) => r.settled)).toBe(false);
    calls[1]!.commit();
    await until(() => rest.every((r) => r.settled));
    expect(rest.every((r) => r.error === undefined)).toBe(true);
    expect(writer.stats()).toMatchObject({ commits: 2, rowsCommitted: 101, largestBatch: 100 });
  });

  it("when 50 rows are written in the same turn, then fewer INSERTs than rows are made", async () => {
    const { insert, calls } = manualInsert();
    const writer = new InboxWriter(insert, { maxConcurrentFlushes: 2 });
    const writes = Array.from({ length: 50 }, () => writer.write(row()));
    await until(() => calls.length >= 1);
    while (calls.some((c) => c.rows.length > 0)) {
      for (const call of calls.splice(0)) call.commit();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(writes);
    expect(writer.stats().commits).toBeLessThan(50);
    expect(writer.stats().rowsCommitted).toBe(50);
  });

  it("when the INSERT of a batch fails, then every caller in that batch is rejected with the cause, and the next batch still commits", async () => {
    const { insert, calls } = manualInsert();
    const writer = new InboxWriter(insert, { maxConcurrentFlushes: 1 });
    const blocker = writer.write(row());
    await until(() => calls.length === 1);
    const batch = Array.from({ length: 10 }, () => writer.write(row()));
    const outcomes = batch.map((p) => p.then(() => "resolved", (error: unknown) => error));
    calls[0]!.commit();
    await blocker;
    await until(() => calls.length === 2);
    const cause = new Error("connection refused");
    calls[1]!.fail(cause);
    for (const outcome of await Promise.all(outcomes)) {
      expect(outcome).toBeInstanceOf(InboxWriteError);
      expect((outcome as InboxWriteError).cause).toBe(cause);
    }
    const after = writer.write(row());
    await until(() => calls.length === 3);
    calls[2]!.commit();
    await expect(after).resolves.toBeUndefined();
    expect(writer.stats()).toMatchObject({ failedFlushes: 1, commits: 2 });
  });

  it("when the queue is at its row bound, then further writes are refused at once with InboxFullError", async () => {
    const { insert, calls } = manualInsert();
    const writer = new InboxWriter(insert, { maxConcurrentFlushes: 1, maxQueuedRows: 3 });
    const inFlight = writer.write(row());
    await until(() => calls.length === 1);
    const queued = [writer.write(row()), writer.write(row()), writer.write(row())];
    await expect(writer.write(row())).rejects.toBeInstanceOf(InboxFullError);
    expect(writer.stats()).toMatchObject({ queuedRows: 3, refusedFull: 1 });
    calls[0]!.commit();
    await inFlight;
    await until(() => calls.length === 2);
    calls[1]!.commit();
    await Promise.all(queued);
  });

  it("when the queue is at its byte bound, then a write that would pass it is refused", async () => {
    const { insert, calls } = manualInsert();
    const writer = new InboxWriter(insert, { maxConcurrentFlushes: 1, maxQueuedBytes: 1000 });
    const inFlight = writer.write(row(5000)); // an idle writer takes one row of any size
    await until(() => calls.length === 1);
    const queued = writer.write(row(600));
    await expect(writer.write(row(600))).rejects.toBeInstanceOf(InboxFullError);
    calls[0]!.commit();
    await until(() => calls.length === 2);
    calls[1]!.commit();
    await Promise.all([inFlight, queued]);
  });

  it("when batches are bounded by rows and bytes, then no INSERT carries more", async () => {
    const { insert, calls } = manualInsert();
    const writer = new InboxWriter(insert, { maxConcurrentFlushes: 1, maxBatchRows: 4, maxBatchBytes: 150 });
    const blocker = writer.write(row());
    await until(() => calls.length === 1);
    const writes = [...Array.from({ length: 6 }, () => writer.write(row(10))), ...Array.from({ length: 3 }, () => writer.write(row(100)))];
    calls.shift()!.commit();
    await blocker;
    const sizes: number[] = [];
    while (sizes.reduce((a, b) => a + b, 0) < 9) {
      await until(() => calls.length > 0, "the next insert");
      const call = calls.shift()!;
      sizes.push(call.rows.length);
      call.commit();
    }
    await Promise.all(writes);
    // 4 rows (row bound), then 10+10+100 (the next 100 would pass 150 bytes), then one 100 each.
    expect(sizes).toEqual([4, 3, 1, 1]);
  });

  it("when a queued row times out before any INSERT took it, then it is rejected as not stored and never inserted", async () => {
    const { insert, calls } = manualInsert();
    const writer = new InboxWriter(insert, { maxConcurrentFlushes: 1 });
    const blocker = writer.write(row());
    await until(() => calls.length === 1);
    const late = row();
    const outcome = writer.write(late, { timeoutMs: 20 }).catch((error: unknown) => error);
    const error = await outcome;
    expect(error).toBeInstanceOf(InboxWriteTimeoutError);
    expect((error as InboxWriteTimeoutError).maybeStored).toBe(false);
    calls[0]!.commit();
    await blocker;
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls.flatMap((c) => c.rows).some((r) => r.id === late.id)).toBe(false);
  });

  it("when a row's INSERT is slower than its timeout, then it is rejected as maybe stored", async () => {
    const { insert, calls } = manualInsert();
    const writer = new InboxWriter(insert);
    const outcome = writer.write(row(), { timeoutMs: 20 }).catch((error: unknown) => error);
    await until(() => calls.length === 1);
    const error = await outcome;
    expect(error).toBeInstanceOf(InboxWriteTimeoutError);
    expect((error as InboxWriteTimeoutError).maybeStored).toBe(true);
    calls[0]!.commit(); // a late commit must not throw or resolve twice
  });

  it("when closed, then queued rows are still committed and new writes are refused", async () => {
    const { insert, calls } = manualInsert();
    const writer = new InboxWriter(insert, { maxConcurrentFlushes: 1 });
    const first = writer.write(row());
    await until(() => calls.length === 1);
    const queued = writer.write(row());
    const closed = track(writer.close());
    await expect(writer.write(row())).rejects.toBeInstanceOf(InboxClosedError);
    calls[0]!.commit();
    await until(() => calls.length === 2);
    expect(closed.settled).toBe(false);
    calls[1]!.commit();
    await Promise.all([first, queued]);
    await until(() => closed.settled);
  });
});

// PostgreSQL itself is exercised by test/webhook-edge.test.ts; the embedded
// database must take the same statement, with the same bytes coming back.
describe("insertIntoWebhookInbox on embedded PGlite", () => {
  let client: PGlite;
  let db: Database;
  beforeAll(async () => {
    client = new PGlite();
    db = drizzle({ client, schema });
    await migrate(db);
  });
  afterAll(async () => {
    await client?.close();
  });

  it("when a batch holds awkward bytes, headers and nulls, then every row is stored exactly", async () => {
    const rows: InboxRow[] = [
      { ...row(), body: Buffer.from([0x00, 0x5c, 0x22, 0x7b, 0xff]), headers: { "user-agent": 'a "quoted" \\ {agent}', "content-type": "application/json" } },
      { ...row(), accountHint: "NULL", status: "malformed", signatureValid: false, body: Buffer.from('{"text":"caf\\u00e9 😮"}', "utf8") },
      { ...row(), body: Buffer.alloc(0), accountHint: null },
    ];
    await new InboxWriter(insertIntoWebhookInbox(db)).write(rows[0]!);
    await insertIntoWebhookInbox(db)(rows.slice(1));
    const stored = await db.select().from(webhookInbox);
    expect(stored).toHaveLength(3);
    for (const expected of rows) {
      const found = stored.find((r) => r.id === expected.id)!;
      expect(found).toMatchObject({
        provider: expected.provider,
        path: expected.path,
        accountHint: expected.accountHint,
        headers: expected.headers,
        signatureValid: expected.signatureValid,
        status: expected.status,
      });
      expect(Buffer.compare(found.body, expected.body)).toBe(0);
    }
  });
});
