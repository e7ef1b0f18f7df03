/**
 * The service as a real process against a private PostgreSQL cluster and a
 * private nats-server, signed webhook load at a fixed rate, and readers for
 * what was stored — for the fault suite, which kills and restarts the parts
 * under the running process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import http from "node:http";
import path from "node:path";

import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import postgres from "postgres";

import { Health, HealthCheckResponse_ServingStatus } from "../../../gen/grpc/health/v1/health_pb.js";
import { contact, messagesChange, metaEnvelope, signDelivery, textMessage } from "../../support/meta-simulator.js";

const ROOT = path.resolve(import.meta.dirname, "../../..");
export const APP_SECRET = "fault-suite-app-secret";
export const JWT_SECRET = "fault-suite-jwt-secret-of-at-least-32-bytes";
/** What the service's own connections are called (the pool, the leader lock): the backends the suite terminates. */
export const SERVICE_APP_NAME = "whatsapp-service";

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  pid: number;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive: () => boolean;
  /** Open file descriptors of the process right now (Linux /proc). */
  fds: () => number;
}

export async function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      PORT: "0",
      HOST: "127.0.0.1",
      ENCRYPTION_KEY: Buffer.alloc(32, 9).toString("base64"),
      AUTH_JWT_SECRET: JWT_SECRET,
      META_APP_SECRET: APP_SECRET,
      META_VERIFY_TOKEN: "fault-verify",
      RATE_LIMIT_PER_SECOND: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  let exitedNow = false;
  void exited.then(() => (exitedNow = true));
  const deadline = Date.now() + 90_000;
  let url: string | undefined;
  while (url === undefined) {
    if (exitedNow || Date.now() > deadline) throw new Error(`service did not start\nstdout:\n${out.slice(-4000)}\nstderr:\n${err.slice(-4000)}`);
    for (const line of out.split("\n")) {
      if (!line.startsWith("{")) continue;
      const parsed = JSON.parse(line) as { msg?: string; url?: string };
      if (typeof parsed.url === "string" && String(parsed.msg).startsWith("listening")) url = parsed.url;
    }
    if (url === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const pid = child.pid!;
  return {
    child,
    url,
    pid,
    stdout: () => out,
    stderr: () => err,
    exited,
    alive: () => !exitedNow && child.exitCode === null && child.signalCode === null,
    fds: () => readdirSync(`/proc/${pid}/fd`).length,
  };
}

/** JSON log lines of the process. */
export function logLines(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export interface Outcome {
  wamid: string;
  /** HTTP status, or the client-side error code (ECONNRESET, ECONNREFUSED, timeout). */
  status: number | string;
  sentAt: number;
  answeredAt: number;
}

export interface Load {
  /** Resolves with every outcome once sending stopped and every request settled. */
  stop(): Promise<Outcome[]>;
  outcomes: Outcome[];
}

/**
 * Signed deliveries (one text message, a fresh wamid each) at `perSecond`, on
 * keep-alive connections, until `stop()`. At most `maxInFlight` at once: a
 * stalled service gets a bounded queue, not an unbounded pile.
 */
export function startWebhookLoad(options: { url: string; phoneNumberId: string; perSecond: number; maxInFlight?: number }): Load {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const target = new URL("/webhook", options.url);
  const maxInFlight = options.maxInFlight ?? 256;
  const outcomes: Outcome[] = [];
  const pending = new Set<Promise<void>>();
  let stopped = false;
  let sent = 0;
  const started = performance.now();
  const post = () => {
    const wamid = `wamid.fault.${randomBytes(12).toString("hex")}`;
    const delivery = signDelivery(
      metaEnvelope("209000000000001", [
        messagesChange({
          phoneNumberId: options.phoneNumberId,
          contacts: [contact("16505551234", "Fault Suite")],
          messages: [textMessage({ from: "16505551234", body: "under load", id: wamid })],
        }),
      ]),
      APP_SECRET,
    );
    const sentAt = Date.now();
    const done = new Promise<void>((resolve) => {
      const record = (status: number | string) => {
        outcomes.push({ wamid, status, sentAt, answeredAt: Date.now() });
        resolve();
      };
      const req = http.request(target, {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "x-hub-signature-256": delivery.signature, "content-length": delivery.body.length },
        timeout: 20_000,
      });
      req.on("response", (res) => {
        res.resume();
        res.on("end", () => record(res.statusCode ?? 0));
        res.on("error", () => record("response-error"));
      });
      req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
      req.on("error", (e: Error & { code?: string }) => record(e.code ?? e.message));
      req.end(delivery.body);
    });
    pending.add(done);
    void done.then(() => pending.delete(done));
  };
  const tick = setInterval(() => {
    if (stopped) return;
    const due = Math.floor(((performance.now() - started) / 1000) * options.perSecond) - sent;
    for (let i = 0; i < due; i++) {
      sent++;
      if (pending.size < maxInFlight) post();
    }
  }, 10);
  return {
    outcomes,
    async stop() {
      stopped = true;
      clearInterval(tick);
      while (pending.size > 0) await Promise.all([...pending]);
      agent.destroy();
      return outcomes;
    },
  };
}

/** How many inbox rows hold each wamid (every row the suite's deliveries left, whatever their status). */
export async function storedWamids(databaseUrl: string): Promise<Map<string, number>> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ wamid: string | null; n: number }[]>`
      select convert_from(body, 'UTF8')::jsonb #>> '{entry,0,changes,0,value,messages,0,id}' as wamid, count(*)::int as n
      from control.webhook_inbox group by 1`;
    return new Map(rows.filter((r) => r.wamid !== null).map((r) => [r.wamid!, r.n]));
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** One value of a query on the service's database. */
export async function scalar<T>(databaseUrl: string, query: string): Promise<T> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql.unsafe(query);
    return Object.values(rows[0] as Record<string, unknown>)[0] as T;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * What the suite asserts after every fault under load: each delivery answered
 * 200 is stored exactly once, and nothing is answered with anything but 200 or
 * 503 (a client-side error is allowed only where `allowErrors` says so).
 */
export function checkOutcomes(outcomes: Outcome[], stored: Map<string, number>) {
  const ok = outcomes.filter((o) => o.status === 200);
  const okMissing = ok.filter((o) => stored.get(o.wamid) !== 1);
  const statuses = new Map<string, number>();
  for (const o of outcomes) statuses.set(String(o.status), (statuses.get(String(o.status)) ?? 0) + 1);
  const okWamids = new Set(ok.map((o) => o.wamid));
  // Stored although the client did not get a 200 (a commit whose answer was a 503 or lost): Meta would retry it.
  const storedNot200 = outcomes.filter((o) => !okWamids.has(o.wamid) && stored.has(o.wamid)).map((o) => o.wamid);
  return { ok: ok.length, okMissing: okMissing.map((o) => ({ wamid: o.wamid, stored: stored.get(o.wamid) ?? 0 })), statuses: Object.fromEntries(statuses), storedNot200 };
}

export async function grpcHealth(url: string, service = ""): Promise<string> {
  const client = createClient(Health, createGrpcTransport({ baseUrl: url }));
  try {
    const answer = await client.check({ service }, { timeoutMs: 3_000 });
    return HealthCheckResponse_ServingStatus[answer.status];
  } catch (error) {
    return `error: ${String(error)}`;
  }
}

export async function httpStatus(url: string): Promise<number | string> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    await response.arrayBuffer();
    return response.status;
  } catch (error) {
    return String((error as { cause?: { code?: string } }).cause?.code ?? error);
  }
}

/** Polls until `probe` returns a value; fails with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
