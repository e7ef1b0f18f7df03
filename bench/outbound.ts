/**
 * bench/outbound — the delivery path against the Graph API simulator
 * (SPEC §10: ≥ 1,000 messages/s per process, per-account rates within
 * ±5%, RSS ≤ 256 MB).
 *
 * One service process (the real `node dist/src/main.js`, built with
 * `npm run build`; `--tsx` runs src/main.ts through tsx instead) on its own
 * fresh database, with the `sender` worker. This process runs the Graph API
 * simulator (test/support/graph-simulator.ts; each number refuses with
 * 130429 beyond its rate) and the load, in two phases:
 *
 * 1. an API-only service process (`WORKERS=none`): `--accounts` Meta
 *    accounts at `--rate` messages/s each, and `--messages` template
 *    messages queued over them through the gRPC API (SendMessage,
 *    `--concurrency` in flight) — the enqueue latency;
 * 2. a sender-only process (`WORKERS=sender`) on the full queue, until the
 *    simulator has accepted every message — the delivery rate and RSS of
 *    the process that sends.
 *
 * Prints: sends/s over the run, per account the achieved rate (accepted
 * sends over the account's busy span) against the configured one, the
 * worst one-second window the simulator saw, 130429 refusals, enqueue
 * latency p50/p99, and the service's peak RSS (VmHWM).
 *
 *   npx tsx bench/outbound.ts [--messages=30000] [--accounts=5] [--rate=250] [--concurrency=64] [--tsx]
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { promisify } from "node:util";

import { createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";

import { AccountService } from "../gen/whatsapp/v1/account_pb.js";
import { Provider } from "../gen/whatsapp/v1/account_pb.js";
import { MessagingService } from "../gen/whatsapp/v1/messaging_pb.js";
import { TemplateCategory, TemplateService } from "../gen/whatsapp/v1/template_pb.js";
import { createTestDatabase } from "../test/support/database.js";
import { GraphSimulator } from "../test/support/graph-simulator.js";
import { tenantHeader } from "../test/support/service.js";

const ROOT = path.resolve(import.meta.dirname, "..");

interface Options {
  messages: number;
  accounts: number;
  rate: number;
  concurrency: number;
  tsx: boolean;
}

function options(): Options {
  const read = (name: string, fallback: number) => {
    const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
    const raw = arg?.split("=")[1] ?? process.env[`BENCH_${name.toUpperCase()}`];
    return raw === undefined ? fallback : Number(raw);
  };
  return {
    messages: read("messages", 30_000),
    accounts: read("accounts", 5),
    rate: read("rate", 250),
    concurrency: read("concurrency", 64),
    tsx: process.argv.includes("--tsx"),
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function startService(env: Record<string, string>, tsx: boolean): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const args = tsx ? ["--import", "tsx", path.join(ROOT, "src/main.ts")] : [path.join(ROOT, "dist/src/main.js")];
  // BENCH_SERVICE_NODE_OPTIONS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) goes to the service processes only.
  const nodeOptions = process.env.BENCH_SERVICE_NODE_OPTIONS;
  if (nodeOptions) args.unshift(...nodeOptions.split(" ").filter((a) => a !== ""));
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env, PORT: String(port), HOST: "127.0.0.1" }, stdio: ["ignore", "ignore", "inherit"] });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited with code ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return { child, url };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error("the service did not start within 60 s");
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** utime + stime of a process, in seconds (/proc/<pid>/stat, clock ticks of 1/100 s). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces), from field 3 on: utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const o = options();
  if (!o.tsx) {
    console.log("bench/outbound: building with `npm run build` (--tsx skips this)…");
    await promisify(execFile)("npm", ["run", "build", "--silent"], { cwd: ROOT });
  }
  const database = await createTestDatabase("bench_outbound");
  const simulator = await GraphSimulator.start({ throughputPerSecond: o.rate, pairRate: { max: 1_000_000, windowMs: 1_000 } });
  const tenant = "bench-outbound";
  let service: { child: ChildProcess; url: string } | undefined;
  try {
    const env = {
      DATABASE_URL: database.url,
      ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      AUTH_MODE: "none",
      AUTH_ALLOW_NONE_WITH_DATABASE: "true",
      WHATSAPP_GRAPH_URL: simulator.url,
      LOG_LEVEL: "warn",
    };
    // Phase 1, an API-only process: the queue fills through the gRPC API with nothing sending yet.
    service = await startService({ ...env, WORKERS: "none" }, o.tsx);
    const sessions = new Http2SessionManager(service.url);
    const transport = { ...createGrpcTransport({ baseUrl: service.url, interceptors: [tenantHeader(tenant)], sessionManager: sessions }), close: () => sessions.abort() };
    const accountsApi = createClient(AccountService, transport);
    const messagingApi = createClient(MessagingService, transport);
    const templatesApi = createClient(TemplateService, transport);
    const accounts: { id: string; phoneNumberId: string }[] = [];
    for (let i = 0; i < o.accounts; i++) {
      const phoneNumberId = `10${Date.now()}${i}`;
      const created = await accountsApi.createAccount({
        account: { provider: Provider.META, phoneNumberId, wabaId: `20${phoneNumberId}`, displayName: `bench ${i}`, rateLimitPerSecond: o.rate, credentials: { accessToken: "bench-token" } },
      });
      accounts.push({ id: created.account!.id, phoneNumberId });
      // SendMessage checks a template send against the stored template: one approved hello_world per account.
      simulator.createStatus = "APPROVED";
      await templatesApi.createTemplate({
        template: { accountId: created.account!.id, name: "hello_world", language: "en_US", category: TemplateCategory.UTILITY, components: { body: { text: "Hello World" } } },
      });
    }

    console.log(`bench/outbound: queueing ${o.messages} messages over ${o.accounts} accounts at ${o.rate}/s each (${o.concurrency} in flight)…`);
    const latencies: number[] = [];
    let next = 0;
    let enqueueErrors = 0;
    const started = performance.now();
    const cpuBefore = await cpuSeconds(service.child.pid!);
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        for (let i = next++; i < o.messages; i = next++) {
          const account = accounts[i % accounts.length]!;
          const t0 = performance.now();
          try {
            await messagingApi.sendMessage({
              accountId: account.id,
              to: `+1555${String(i).padStart(7, "0")}`,
              content: { case: "template", value: { name: "hello_world", language: "en_US" } },
            });
            latencies.push(performance.now() - t0);
          } catch (error) {
            if (enqueueErrors++ === 0) console.error("bench/outbound: SendMessage failed:", error);
          }
        }
      }),
    );
    const enqueueSeconds = (performance.now() - started) / 1000;
    const enqueueCpu = (await cpuSeconds(service.child.pid!)) - cpuBefore;
    const queued = o.messages - enqueueErrors;
    // Phase 2, a sender-only process: it finds the whole queue waiting, so its rate is the delivery path's own.
    transport.close?.();
    service.child.kill("SIGTERM");
    await new Promise((r) => service!.child.once("exit", r));
    console.log(`bench/outbound: ${queued} queued; starting the sender process…`);
    service = await startService({ ...env, WORKERS: "sender" }, o.tsx);
    const deadline = Date.now() + (queued / (o.rate * o.accounts)) * 3_000 + 60_000;
    while (simulator.requests.filter((r) => r.outcome === "accepted").length < queued && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    const rssMb = await peakRssMb(service.child.pid!);

    const accepted = simulator.requests.filter((r) => r.outcome === "accepted");
    const first = Math.min(...accepted.map((r) => r.at));
    const last = Math.max(...accepted.map((r) => r.at));
    latencies.sort((a, b) => a - b);
    console.log("");
    console.log(`enqueue   ${queued} queued in ${enqueueSeconds.toFixed(1)} s (${Math.round(queued / enqueueSeconds)}/s), p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms, errors ${enqueueErrors}`);
    console.log(`          service CPU ${enqueueCpu.toFixed(1)} s over the enqueue (${((enqueueCpu / Math.max(1, queued)) * 1e6).toFixed(0)} µs per message, user+system)`);
    console.log(`sent      ${accepted.length} accepted in ${((last - first) / 1000).toFixed(1)} s → ${Math.round(accepted.length / ((last - first) / 1000))} messages/s`);
    console.log(`refused   ${simulator.requests.filter((r) => r.code === 130429).length} × 130429, ${simulator.requests.filter((r) => r.outcome !== "accepted").length} refusals in all; duplicates ${accepted.length - new Set(accepted.map((r) => r.messageId)).size}`);
    console.log("account                      configured  achieved  ratio   max in any 1 s");
    for (const account of accounts) {
      const mine = accepted.filter((r) => r.phoneNumberId === account.phoneNumberId).map((r) => r.at);
      const span = (Math.max(...mine) - Math.min(...mine)) / 1000;
      const achieved = (mine.length - 1) / span;
      console.log(
        `${account.phoneNumberId.padEnd(28)} ${String(o.rate).padStart(10)}  ${achieved.toFixed(1).padStart(8)}  ${((achieved / o.rate) * 100).toFixed(1).padStart(5)}%  ${String(simulator.maxInAnySecond(account.phoneNumberId)).padStart(6)}`,
      );
    }
    console.log(`peak RSS  ${rssMb.toFixed(0)} MB (service process, VmHWM)`);
  } finally {
    service?.child.kill("SIGTERM");
    if (service) await new Promise((r) => service!.child.once("exit", r));
    await simulator.close();
    await database.drop();
  }
}

await main();
