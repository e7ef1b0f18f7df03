/**
 * The service side of bench/pipeline.ts: the real service (startService,
 * every worker on) in its own process, driven over IPC by the bench. It
 * imports only `src/` (no test helpers, no tsx), so bench/pipeline.ts can
 * compile it with tsc and run it with plain `node`, as production does.
 *
 * Environment: BENCH_DATABASE_URL, BENCH_NATS_URL, BENCH_APP_SECRET,
 * BENCH_TENANT, BENCH_PHONE_NUMBER_ID, BENCH_WABA_ID, BENCH_STREAM,
 * BENCH_LOG_LEVEL (default error).
 */
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import net from "node:net";

import { v7 as uuidv7 } from "uuid";

import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/observability/logger.js";
import { startService } from "../src/server.js";
import { inboxWorkerCounters } from "../src/workers/inbox-worker.js";

export type ToService = { type: "stats" } | { type: "stop" } | { type: "profile"; action: "start" } | { type: "profile"; action: "stop"; file: string };
export interface ServiceStats {
  rss: number;
  peakRss: number;
  cpuMicros: number;
  heapUsed: number;
  inbox: Record<string, number>;
  /** Linux only: read/write system calls and context switches of the process so far (/proc/self). */
  os: Record<string, number>;
}
export type FromService =
  | { type: "ready"; url: string; idleRss: number }
  | ({ type: "stats" } & ServiceStats)
  | { type: "profiled"; file?: string }
  | { type: "stopped" };

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/**
 * Socket writes by peer (postgres, nats, http): each write is one system call
 * that, on loopback, also runs the receiver's side of TCP — the dearest
 * single item of the service's CPU profile. Counted by wrapping
 * net.Socket#write in this bench process only.
 */
const socketWrites: Record<string, number> = {};
function countSocketWrites(ports: { postgres: number; nats: number }): void {
  const write = net.Socket.prototype.write;
  net.Socket.prototype.write = function (this: net.Socket, ...args: unknown[]) {
    const peer = this.remotePort === ports.postgres ? "pg" : this.remotePort === ports.nats ? "nats" : "http";
    socketWrites[`${peer}Writes`] = (socketWrites[`${peer}Writes`] ?? 0) + 1;
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof write;
}

/** syscr/syscw from /proc/self/io, context switches from /proc/self/status (empty elsewhere). */
function osCounters(): Record<string, number> {
  const counters: Record<string, number> = {};
  const read = (file: string, pattern: RegExp) => {
    try {
      for (const match of readFileSync(file, "utf8").matchAll(pattern)) counters[match[1]!] = Number(match[2]);
    } catch {
      // not Linux
    }
  };
  read("/proc/self/io", /^(syscr|syscw): (\d+)$/gm);
  read("/proc/self/status", /^(voluntary_ctxt_switches|nonvoluntary_ctxt_switches):\s+(\d+)$/gm);
  return counters;
}

/** A V8 CPU profile of the measured phase only (not start-up nor warm-up), through the inspector. */
const inspector = new Session();
async function profile(message: Extract<ToService, { type: "profile" }>): Promise<string | undefined> {
  const post = (method: string) =>
    new Promise<unknown>((resolve, reject) => inspector.post(method, (error, result) => (error ? reject(error) : resolve(result))));
  if (message.action === "start") {
    inspector.connect();
    await post("Profiler.enable");
    await post("Profiler.start");
    return undefined;
  }
  const { profile } = (await post("Profiler.stop")) as { profile: unknown };
  inspector.disconnect();
  writeFileSync(message.file, JSON.stringify(profile));
  return message.file;
}

async function serve(): Promise<void> {
  let peakRss = process.memoryUsage.rss();
  setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50).unref();
  countSocketWrites({ postgres: Number(new URL(env("BENCH_DATABASE_URL")).port || 5432), nats: Number(new URL(env("BENCH_NATS_URL")).port) });
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_URL: env("BENCH_DATABASE_URL"),
    NATS_URL: env("BENCH_NATS_URL"),
    NATS_STREAM: env("BENCH_STREAM"),
    ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    AUTH_MODE: "none",
    AUTH_ALLOW_NONE_WITH_DATABASE: "true",
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "error",
    META_APP_SECRET: env("BENCH_APP_SECRET"),
  });
  const service = await startService(config, createLogger({ level: config.logLevel, pretty: false }));
  await service.app.accounts.create({
    id: uuidv7(),
    tenantId: env("BENCH_TENANT"),
    provider: "meta",
    displayName: "Bench number",
    phoneNumberId: env("BENCH_PHONE_NUMBER_ID"),
    wabaId: env("BENCH_WABA_ID"),
    displayPhoneNumber: "+15550783881",
    businessId: "biz-bench",
    rateLimitPerSecond: 80,
    status: "active",
    credentials: {},
    metadata: {},
  });
  // BENCH_STATEMENTS=1: count the statements the service sends, by their first words (costs CPU; for finding round trips, not for timing).
  const statements: Record<string, number> = {};
  if (process.env.BENCH_STATEMENTS) {
    const client = (service.app.database.db as unknown as { $client: { options: { debug?: unknown } } }).$client;
    client.options.debug = (_connection: number, query: string) => {
      const key = `stmt ${query.replace(/\s+/g, " ").trim().slice(0, 70)}`;
      statements[key] = (statements[key] ?? 0) + 1;
    };
  }
  const send = (message: FromService) => process.send?.(message);
  process.on("message", (message: ToService) => {
    if (message.type === "stats") {
      const rss = process.memoryUsage.rss();
      const cpu = process.cpuUsage();
      send({
        type: "stats",
        rss,
        peakRss: Math.max(peakRss, rss),
        cpuMicros: cpu.user + cpu.system,
        heapUsed: process.memoryUsage().heapUsed,
        inbox: { ...inboxWorkerCounters },
        os: { ...osCounters(), ...socketWrites, inboxInserts: service.app.inboxWriter.stats().commits, ...statements },
      });
    } else if (message.type === "profile") {
      void profile(message).then((file) => send({ type: "profiled", file }));
    } else {
      void service.stop().then(() => {
        send({ type: "stopped" });
        process.disconnect();
      });
    }
  });
  send({ type: "ready", url: `${service.url}/webhook`, idleRss: process.memoryUsage.rss() });
}

await serve();
