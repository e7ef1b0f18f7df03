/**
 * The image's start command, shown without Docker: the Dockerfile's CMD (and
 * HEALTHCHECK, and the Kubernetes migrate Job's command) run from a directory
 * laid out like the image, as an unprivileged user who can write nothing but
 * DATA_DIR — the situation of `USER 1000` in a root-owned /app.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { chown, mkdir, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";

import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { execForm, healthcheckOf, readDockerfile, ROOT, single } from "./dockerfile.js";
import { layOutRuntime, type RuntimeLayout } from "./runtime-layout.js";

/** `nobody` when the test runs as root (CI, these machines); otherwise the (already unprivileged) current user. */
const AS_ROOT = process.getuid?.() === 0;
const UNPRIVILEGED = AS_ROOT ? { uid: 65534, gid: 65534 } : {};
const EXPECTED_UID = AS_ROOT ? 65534 : process.getuid!();

const dockerfile = readDockerfile();
const CMD = execForm(single(dockerfile.runtime, "CMD").args);
const HEALTHCHECK = healthcheckOf(dockerfile.runtime).command;

let layout: RuntimeLayout;

beforeAll(async () => {
  layout = await layOutRuntime(dockerfile);
}, 300_000);

afterAll(async () => {
  await layout?.remove();
});

interface Started {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Runs `argv` "in the image": its WORKDIR, its ENV plus `env`, its PATH, as the unprivileged user. */
function runInImage(argv: string[], env: Record<string, string>): Started {
  const [command, ...args] = argv;
  const child = spawn(command!, args, {
    cwd: layout.app,
    // Only the image's ENV and what the test sets: the developer's own DATABASE_URL etc. must not leak in.
    env: { ...layout.env, PATH: layout.path, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    ...UNPRIVILEGED,
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

function logLines(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Polls until the process logs where it listens (or exits, or the deadline passes): start-up is slow on a busy machine. */
async function listeningUrl(proc: Started, timeoutMs = 120_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = logLines(proc.stdout()).find((l) => typeof l.url === "string" && String(l.msg).startsWith("listening"));
    if (line) return line.url as string;
    if (proc.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the service did not start (exit ${proc.child.exitCode})\nstdout:\n${proc.stdout()}\nstderr:\n${proc.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopWithSigterm(proc: Started): Promise<number | null> {
  proc.child.kill("SIGTERM");
  const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 60_000).unref());
  const result = await Promise.race([proc.exited, timeout]);
  if (result === "timeout") {
    proc.child.kill("SIGKILL");
    throw new Error(`no exit within 60 s of SIGTERM\nstdout:\n${proc.stdout()}\nstderr:\n${proc.stderr()}`);
  }
  return result;
}

/** An empty directory only the unprivileged user may write: the image's DATA_DIR. */
async function privateDataDir(name: string): Promise<string> {
  const dir = path.join(layout.base, name);
  await mkdir(dir, { mode: 0o700 });
  if (AS_ROOT) await chown(dir, 65534, 65534);
  return dir;
}

describe("the image's CMD as an unprivileged user with no DATABASE_URL (embedded mode)", () => {
  let dataDir: string;
  let proc: Started;
  let url: string;

  beforeAll(async () => {
    dataDir = await privateDataDir("data-embedded");
    proc = runInImage(CMD, { PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir });
    url = await listeningUrl(proc);
  }, 180_000);

  afterAll(() => {
    if (proc?.child.exitCode === null) proc.child.kill("SIGKILL");
  });

  it("when it has started, then /health answers 200 and the embedded-mode warning is logged", async () => {
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    const lines = logLines(proc.stdout());
    expect(lines.some((l) => l.level === "warn" && String(l.msg).startsWith("EMBEDDED MODE"))).toBe(true);
    expect(lines.find((l) => String(l.msg).startsWith("listening"))).toMatchObject({ database: "pglite" });
  });

  it("when it has started, then DATA_DIR holds the PGlite database and the generated key, owned by that user, and nothing was written beside the code", async () => {
    expect((await readdir(dataDir)).sort()).toEqual(["encryption.key", "pglite"]);
    expect((await stat(path.join(dataDir, "encryption.key"))).uid).toBe(EXPECTED_UID);
    expect((await stat(path.join(dataDir, "pglite"))).uid).toBe(EXPECTED_UID);
    expect((await readdir(path.join(dataDir, "pglite"))).length).toBeGreaterThan(0);
    expect(existsSync(path.join(layout.app, "data"))).toBe(false);
  });

  it("when the HEALTHCHECK command runs against it, then it exits 0", async () => {
    const port = new URL(url).port;
    const check = runInImage(HEALTHCHECK, { PORT: port });
    expect(await check.exited).toBe(0);
  });

  it("when SIGTERM arrives, then it drains and exits 0, and the HEALTHCHECK then fails", async () => {
    expect(await stopWithSigterm(proc)).toBe(0);
    expect(logLines(proc.stdout()).some((l) => l.msg === "stopped")).toBe(true);
    const check = runInImage(HEALTHCHECK, { PORT: new URL(url).port });
    expect(await check.exited).toBe(1);
  });
});

describe("the image's CMD with DATA_DIR inside the code directory (the old image's ./data)", () => {
  it("when it starts embedded there, then it fails with EACCES: the code is not writable by the service's user", async () => {
    const proc = runInImage(CMD, { PORT: "0", HOST: "127.0.0.1", DATA_DIR: "./data" });
    const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 120_000).unref());
    const code = await Promise.race([proc.exited, timeout]);
    if (code === "timeout") proc.child.kill("SIGKILL");
    expect(code).toBe(1);
    expect(proc.stderr()).toContain("EACCES");
    expect(existsSync(path.join(layout.app, "data"))).toBe(false);
  }, 150_000);
});

describe("the image's CMD and the migrate Job's command as an unprivileged user with DATABASE_URL", () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  /** DATA_DIR points into the read-only code: with DATABASE_URL nothing may need it. */
  let unwritableDataDir: string;

  beforeAll(async () => {
    database = await createTestDatabase("image");
    unwritableDataDir = path.join(layout.app, "no-data-here");
    env = {
      PORT: "0",
      HOST: "127.0.0.1",
      DATABASE_URL: database.url,
      DATA_DIR: unwritableDataDir,
      ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      AUTH_MODE: "jwt",
      AUTH_JWT_SECRET: randomBytes(32).toString("hex"),
      SHUTDOWN_GRACE_MS: "2000",
    };
  }, 60_000);

  afterAll(async () => {
    await database?.drop();
  });

  it("when the migrate Job's command runs, then it applies the migrations and exits 0", async () => {
    const job = parseAllDocuments(readFileSync(path.join(ROOT, "deploy/kubernetes/jobs/migrate.yaml"), "utf8"))[0]!.toJS() as {
      spec: { template: { spec: { containers: { command: string[] }[] } } };
    };
    const command = job.spec.template.spec.containers[0]!.command;
    const migrate = runInImage(command, env);
    const code = await migrate.exited;
    expect(code, `stdout:\n${migrate.stdout()}\nstderr:\n${migrate.stderr()}`).toBe(0);
    expect(logLines(migrate.stdout()).some((l) => l.msg === "migrations applied")).toBe(true);
  }, 120_000);

  it("when the CMD runs, then /health/db answers ok on PostgreSQL, DATA_DIR is never created, and SIGTERM exits 0", async () => {
    const proc = runInImage(CMD, env);
    try {
      const url = await listeningUrl(proc);
      const db = await fetch(`${url}/health/db`);
      expect(db.status).toBe(200);
      expect(await db.json()).toMatchObject({ status: "ok", database: "postgres" });
      expect(existsSync(unwritableDataDir)).toBe(false);
      expect(logLines(proc.stdout()).some((l) => String(l.msg).startsWith("EMBEDDED MODE"))).toBe(false);
      expect(await stopWithSigterm(proc)).toBe(0);
    } finally {
      if (proc.child.exitCode === null) proc.child.kill("SIGKILL");
    }
  }, 180_000);
});
