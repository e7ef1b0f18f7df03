/**
 * The service as an operator runs it: a real process started like `npm start`
 * (through tsx, so no build is needed), configured only by its environment.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, "..");
const BUF = path.join(ROOT, "node_modules/.bin/buf");

interface Started {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function startProcess(env: Record<string, string>): Started {
  // Only what the test sets: the developer's own DATABASE_URL etc. must not leak in.
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number, started?: Started): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\nstdout:\n${started?.stdout()}\nstderr:\n${started?.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function logLines(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("npm start with no environment (embedded mode)", () => {
  let dataDir: string;
  let proc: Started;
  let url: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "wa-embedded-"));
    proc = startProcess({ PORT: "0", DATA_DIR: dataDir, HOST: "127.0.0.1" });
    url = await waitFor(
      "the listening line",
      () => logLines(proc.stdout()).find((l) => typeof l.url === "string" && String(l.msg).startsWith("listening"))?.url as string | undefined,
      60_000,
      proc,
    );
  }, 90_000);

  afterAll(async () => {
    if (proc.child.exitCode === null) proc.child.kill("SIGKILL");
    await rm(dataDir, { recursive: true, force: true });
  });

  it("when it starts, then it warns loudly that it runs embedded and logs where it listens", () => {
    const lines = logLines(proc.stdout());
    expect(lines.some((l) => String(l.msg).startsWith("EMBEDDED MODE") && l.level === "warn")).toBe(true);
    expect(lines.find((l) => String(l.msg).startsWith("listening"))).toMatchObject({ database: "pglite" });
  });

  it("when buf curl lists methods through reflection, then every service is there", async () => {
    const { stdout } = await run(BUF, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "--list-methods", url]);
    for (const service of [
      "whatsapp.v1.AccountService/CreateAccount",
      "whatsapp.v1.AccountService/GetAccountMetrics",
      "whatsapp.v1.MessagingService/SendMessage",
      "whatsapp.v1.ConversationService/WatchEvents",
      "whatsapp.v1.TemplateService/SyncTemplates",
      "whatsapp.v1.OtpService/VerifyOtp",
      "grpc.health.v1.Health/Check",
    ]) {
      expect(stdout).toContain(service);
    }
  });

  it("when health Check is called with buf curl and no schema, then it answers SERVING", async () => {
    const { stdout } = await run(BUF, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "-d", "{}", `${url}/grpc.health.v1.Health/Check`]);
    expect(JSON.parse(stdout)).toEqual({ status: "SERVING" });
  });

  it("when an account is created with buf curl, then a plain HTTP/1.1 JSON call gets it back without credentials", async () => {
    const { stdout } = await run(BUF, [
      "curl",
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "-H",
      "x-tenant-id: laptop",
      "-d",
      JSON.stringify({ account: { provider: "PROVIDER_SANDBOX", phoneNumberId: "sandbox-1", credentials: { verifyToken: "vt-secret" } } }),
      `${url}/whatsapp.v1.AccountService/CreateAccount`,
    ]);
    const created = JSON.parse(stdout) as { account: { id: string } };
    const response = await fetch(`${url}/whatsapp.v1.AccountService/GetAccount`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-tenant-id": "laptop" },
      body: JSON.stringify({ accountId: created.account.id }),
    });
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(JSON.parse(text)).toMatchObject({ account: { id: created.account.id, provider: "PROVIDER_SANDBOX", credentialsSet: ["verify_token"] } });
    expect(text).not.toContain("vt-secret");
    expect(proc.stdout()).not.toContain("vt-secret");
  });

  it("when /health and /health/db are asked, then both answer ok", async () => {
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    const db = await fetch(`${url}/health/db`);
    expect(db.status).toBe(200);
    expect(await db.json()).toMatchObject({ status: "ok", database: "pglite" });
  });

  it("when SIGTERM arrives, then it drains and exits 0", async () => {
    proc.child.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    expect(logLines(proc.stdout()).some((l) => l.msg === "stopped")).toBe(true);
  });
});

describe("bad configuration stops the process with exit code 2", () => {
  it("when ENCRYPTION_KEY is not 32 bytes, then the message names it and does not print it", async () => {
    const badKey = Buffer.alloc(20, 3).toString("base64");
    const proc = startProcess({
      DATABASE_URL: "postgres://postgres@127.0.0.1:5432/test",
      ENCRYPTION_KEY: badKey,
      AUTH_MODE: "none",
      AUTH_ALLOW_NONE_WITH_DATABASE: "true",
    });
    expect(await proc.exited).toBe(2);
    expect(proc.stderr()).toMatch(/ENCRYPTION_KEY: must decode to 32 bytes/);
    expect(proc.stderr() + proc.stdout()).not.toContain(badKey);
  });

  it("when AUTH_MODE=none is set with a real database and no override, then it refuses to start", async () => {
    const proc = startProcess({
      DATABASE_URL: "postgres://postgres@127.0.0.1:5432/test",
      ENCRYPTION_KEY: Buffer.alloc(32, 3).toString("base64"),
      AUTH_MODE: "none",
    });
    expect(await proc.exited).toBe(2);
    expect(proc.stderr()).toMatch(/AUTH_MODE: none .*AUTH_ALLOW_NONE_WITH_DATABASE=true/);
  });

  it("when a real database is set without any token key, then it refuses to start naming both key variables", async () => {
    const proc = startProcess({ DATABASE_URL: "postgres://postgres@127.0.0.1:5432/test", ENCRYPTION_KEY: Buffer.alloc(32, 3).toString("base64") });
    expect(await proc.exited).toBe(2);
    expect(proc.stderr()).toMatch(/AUTH_MODE: jwt needs AUTH_JWT_SECRET .*AUTH_JWKS_URL/);
  });

  it("when PORT and LOG_LEVEL are both wrong, then one message names both", async () => {
    const proc = startProcess({ PORT: "eighty", LOG_LEVEL: "chatty" });
    expect(await proc.exited).toBe(2);
    expect(proc.stderr()).toMatch(/PORT: must be an integer/);
    expect(proc.stderr()).toMatch(/LOG_LEVEL: must be one of/);
  });
});
