/**
 * porsager/postgres#1208: a backend that dies while postgres.js still has a
 * write queued kills the process with an uncaught
 * `TypeError: Cannot read properties of null (reading 'write')` from
 * `nextWrite`. postgres.js 3.4.9 is patched at install (patches/); these
 * scenarios run in a child process against a private cluster and prove the
 * process survives and every query settles.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startPrivatePostgres, type PrivatePostgres } from "../support/private-postgres.js";

const ROOT = path.resolve(import.meta.dirname, "../..");

interface Line {
  scenario: string;
  [key: string]: unknown;
}

async function runScenarios(url: string): Promise<{ code: number | null; lines: Line[]; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "test/faults/support/driver-scenarios.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", PG_URL: url },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  const lines = out
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Line);
  return { code, lines, stderr: err };
}

describe("postgres.js when a backend dies (issue #1208)", () => {
  let pg: PrivatePostgres;
  let result: Awaited<ReturnType<typeof runScenarios>>;

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    result = await runScenarios(pg.url);
  }, 120_000);

  afterAll(async () => {
    await pg?.cleanup();
  });

  it("when every scenario ran, then the process exited 0 without an uncaught TypeError", () => {
    expect(result.stderr).not.toMatch(/Cannot read properties of null/);
    expect(result.code, result.stderr).toBe(0);
    expect(result.lines.map((l) => l.scenario)).toEqual(["reserved", "transaction", "transaction-reused", "load", "end"]);
  });

  it("when a reserved connection's backend was terminated, then both later queries reject CONNECTION_CLOSED and the pool recovers", () => {
    const line = result.lines.find((l) => l.scenario === "reserved");
    expect(line).toMatchObject({ after: "ok" });
    // The first query races the termination: the backend's 57P01, the close, or (written after the backend
    // left) the reset of the socket. The second always finds the connection closed.
    expect(["CONNECTION_CLOSED", "57P01", "ECONNRESET"]).toContain(line?.first);
    expect(line?.second).toBe("CONNECTION_CLOSED");
  });

  it("when a transaction's backend died under its callback, then the transaction rejects, its late query is refused and the pool recovers", () => {
    const line = result.lines.find((l) => l.scenario === "transaction");
    expect(line).toMatchObject({ after: "ok" });
    expect(line?.outcome).not.toBe("committed");
    expect(line?.inner).not.toBe("ok");
  });

  it("when a transaction's connection died and the pool has only that one, then the transaction rejects and the next queries get their own results", () => {
    const line = result.lines.find((l) => l.scenario === "transaction-reused");
    expect(line?.outcome).not.toBe("committed");
    expect(line).toMatchObject({ after: 42, next: 43 });
  });

  it("when every backend is terminated repeatedly under concurrent transactions, then each either committed or was refused, and the rows stored are the commits", () => {
    const line = result.lines.find((l) => l.scenario === "load") as { committed: number; refused: number; other: string[]; stored: number; after: string } | undefined;
    expect(line?.after).toBe("ok");
    expect(line?.other).toEqual([]);
    expect(line?.committed).toBeGreaterThan(0);
    expect(line?.refused).toBeGreaterThan(0);
    expect(line?.stored).toBe(line?.committed);
  });
});
