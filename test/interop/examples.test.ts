/**
 * The runnable examples, run as their users run them (`tsx examples/…`)
 * against a real service process, so they cannot rot: a private nats-server
 * (the service's stream takes `whatsapp.>`), a fresh database, AUTH_MODE
 * none with the tenant in x-tenant-id.
 *
 * The OTP example is started before the service exists: its first calls
 * meet a closed port (Unavailable) and are retried with backoff until the
 * service answers.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import path from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { startNatsServer, type NatsTestServer } from "../support/nats-server.js";
import { uniqueTenant } from "../support/service.js";
import { eventually } from "../kit/eventually.js";

const ROOT = path.resolve(import.meta.dirname, "../..");

interface Proc {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

function start(script: string, args: string[], env: Record<string, string>): Proc {
  // Only what the test sets: a developer's own DATABASE_URL etc. must not leak in.
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
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

type Step = Record<string, unknown> & { step: string };

function steps(proc: Proc): Step[] {
  return proc
    .stdout()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Step);
}

/** Runs an example to its end; fails with its output when it exits non-zero. */
async function runExample(script: string, args: string[], env: Record<string, string>): Promise<Step[]> {
  const proc = start(script, args, env);
  const code = await proc.exited;
  if (code !== 0) throw new Error(`${script} ${args.join(" ")} exited ${code}\nstdout:\n${proc.stdout()}\nstderr:\n${proc.stderr()}`);
  return steps(proc);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let nats: NatsTestServer;
let database: TestDatabase;
let service: Proc;
let otpExample: Proc;
let serviceUrl: string;
const stream = `EXAMPLES_${randomBytes(3).toString("hex").toUpperCase()}`;

beforeAll(async () => {
  nats = await startNatsServer();
  database = await createTestDatabase("examples");
  const port = await freePort();
  serviceUrl = `http://127.0.0.1:${port}`;
  // Before the service: the example's retries on Unavailable are part of what is tested.
  otpExample = start("examples/otp.ts", [], { WHATSAPP_URL: serviceUrl, WHATSAPP_TENANT: uniqueTenant("otp-example"), OTP_EXAMPLE_ATTEMPTS: "60" });
  await eventually("the OTP example's first retry", async () => (steps(otpExample).some((s) => s.step === "retry") ? true : undefined), { timeoutMs: 30_000 });
  service = start("src/main.ts", [], {
    PORT: String(port),
    HOST: "127.0.0.1",
    DATABASE_URL: database.url,
    AUTH_MODE: "none",
    AUTH_ALLOW_NONE_WITH_DATABASE: "true",
    ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    NATS_URL: nats.url,
    NATS_STREAM: stream,
    LOG_LEVEL: "info",
  });
  await eventually("the service's listening line", async () => (service.stdout().includes('"msg":"listening') ? true : undefined), { timeoutMs: 120_000 });
}, 180_000);

afterAll(async () => {
  for (const proc of [otpExample, service]) {
    if (proc && proc.child.exitCode === null) {
      proc.child.kill("SIGTERM");
      await proc.exited;
    }
  }
  await nats?.cleanup();
  await database?.drop();
}, 60_000);

describe("examples/otp.ts", () => {
  it("when it starts before the service, then it retries Unavailable with backoff, sends a code, reads the cooldown's ErrorInfo and RetryInfo, and verifies once", async () => {
    const code = await otpExample.exited;
    const out = steps(otpExample);
    expect(code, otpExample.stdout() + otpExample.stderr()).toBe(0);

    const retries = out.filter((s) => s.step === "retry");
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.every((s) => s.what === "CreateAccount" && s.code === "Unavailable")).toBe(true);
    expect(retries.map((s) => s.attempt)).toEqual(retries.map((_, i) => i + 1));

    expect(out.find((s) => s.step === "otp-sent")).toMatchObject({ maxAttempts: 5 });
    const refused = out.find((s) => s.step === "otp-refused");
    expect(refused).toMatchObject({ code: "ResourceExhausted", reason: "OTP_RESEND_COOLDOWN", domain: "whatsapp-service" });
    expect(refused?.retryDelayMs).toBeGreaterThan(0);
    expect(out.filter((s) => s.step === "otp-verify").map((s) => s.outcome)).toEqual(["WRONG_CODE", "VERIFIED", "ALREADY_USED"]);
  }, 180_000);
});

describe("examples/orchestrator.ts", () => {
  it("when its consumer stops after the first status and a second run resumes the durable consumer, then every status arrives once, acked, with no gap; the watch resumes after a reconnect", async () => {
    const tenant = uniqueTenant("orch");
    const env = { WHATSAPP_URL: serviceUrl, WHATSAPP_TENANT: tenant, NATS_URL: nats.url, NATS_STREAM: stream };
    const durable = `orchestrator-${randomBytes(3).toString("hex")}`;

    const first = await runExample("examples/orchestrator.ts", ["--durable", durable, "--stop-after", "1"], env);
    const sent = first.find((s) => s.step === "sent");
    expect(sent).toMatchObject({ status: "MESSAGE_STATUS_QUEUED", repeatDuplicate: true });
    expect(sent?.repeatMessageId).toBe(sent?.messageId);
    expect(first.find((s) => s.step === "consumer-stopped")).toMatchObject({ durable, afterStatuses: 1 });

    const second = await runExample("examples/orchestrator.ts", ["--durable", durable, "--message-id", String(sent?.messageId)], env);

    const received = [...first, ...second].filter((s) => s.step === "nats");
    expect(received.map((s) => s.status)).toEqual(["SENT", "DELIVERED", "READ"]);
    expect(received.every((s) => s.redelivered === false)).toBe(true);
    // The stream's own record of this message's statuses: the consumer got exactly these.
    const inStream = (await nats.collectEvents(stream, `whatsapp.${tenant}.message.status`)).filter(
      (e) => e.event?.type === "message.status" && e.event.message.messageId === sent?.messageId,
    );
    expect(received.map((s) => s.eventId)).toEqual(inStream.map((e) => e.msgId));

    // Every delivery acked and confirmed: nothing pending, nothing redelivered.
    const nc = await connect({ servers: nats.url });
    try {
      const info = await (await jetstreamManager(nc)).consumers.info(stream, durable);
      expect({ pending: info.num_ack_pending, redelivered: info.num_redelivered, ackFloor: info.ack_floor.stream_seq }).toEqual({
        pending: 0,
        redelivered: 0,
        ackFloor: info.delivered.stream_seq,
      });
    } finally {
      await nc.close();
    }

    // The watch: dropped after its first status, resumed after the last event id, nothing twice.
    expect(first.some((s) => s.step === "watch-resumed")).toBe(true);
    const watched = first.filter((s) => s.step === "watch");
    expect(new Set(watched.map((s) => s.eventId)).size).toBe(watched.length);
    expect(first.find((s) => s.step === "watch-done")).toMatchObject({ statuses: ["SENT", "DELIVERED", "READ"], connections: 2 });
  }, 240_000);
});
