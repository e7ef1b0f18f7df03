/**
 * bench/ingest: webhook ingest of the real service beside the bare reference
 * (SPEC §10), in one run, against the same PostgreSQL.
 *
 *   npx tsx bench/ingest.ts [--deliveries=30000] [--concurrency=64] [--rounds=3]
 *                           [--rate=1000] [--seconds=10] [--warmup=5000]
 *                           [--flushes=N] [--strict] [--tsx]
 *
 * The servers are compiled with tsc first (as production runs them; --tsx
 * skips that) and each runs in its own child process (neither shares an
 * event loop with the load generator nor loads the other's code): the service through
 * `startService` with WORKERS=none (only the edge is measured) on a fresh
 * database, and bench/bare-reference.ts on the same database. Both get the
 * same kind of signed deliveries over keep-alive HTTP/1.1 on loopback:
 *
 * - closed loop: `--deliveries` split over `--rounds` rounds, the two servers
 *   taking turns (so a noisy neighbour hurts both alike), `--concurrency`
 *   requests in flight → requests/s (median round) and CPU time per delivery;
 * - open loop: a fixed `--rate` for `--seconds` → latency at that rate,
 *   measured from each request's scheduled start (no coordinated omission).
 *
 * Then the stored rows are counted and must equal the 200s of each server.
 * Exit code 1 when they differ, or (with --strict) when a SPEC target is missed.
 */
import { execFile, fork, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { access, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import postgres from "postgres";
import { createTestDatabase } from "../test/support/database.js";
import { contact, messagesChange, metaEnvelope, signDelivery, textMessage, type SignedDelivery } from "../test/support/meta-simulator.js";
import { BARE_TABLE } from "./bare-reference.js";

const APP_SECRET = "bench-app-secret";
const POOL_SIZE = 10; // the service's DEFAULT_POOL_SIZE; the bare reference gets the same
const REQUEST_TIMEOUT_MS = 10_000;
const RUN_DEADLINE_MS = 10 * 60_000;
const IPC_TIMEOUT_MS = 30_000;
const ROOT = path.resolve(import.meta.dirname, "..");

type Target = "service" | "bare";

// ------------------------------------------------------------------ child: one server

type ToChild = { type: "stats"; resetPeak?: boolean } | { type: "stop" };
interface ChildStats {
  rss: number;
  /** Highest RSS sampled (every 50 ms) since the last reset. */
  peakRss: number;
  /** User + system CPU time of the process so far. */
  cpuMicros: number;
  heapUsed: number;
  writer?: Record<string, number>;
}
type FromChild = { type: "ready"; url: string; idleRss: number } | ({ type: "stats" } & ChildStats) | { type: "stopped" };

async function serve(target: Target): Promise<void> {
  const databaseUrl = requiredEnv("BENCH_DATABASE_URL");
  let peakRss = process.memoryUsage.rss();
  setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50).unref();

  let url: string;
  let stop: () => Promise<void>;
  let writerStats: (() => Record<string, number>) | undefined;
  // Imported here, not at the top: each child loads only its own server's
  // code, so the bare reference's memory is not inflated by the service's.
  if (target === "service") {
    const [{ loadConfig }, { createLogger }, { startService }] = await Promise.all([
      import("../src/config.js"),
      import("../src/observability/logger.js"),
      import("../src/server.js"),
    ]);
    const config = loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      DATABASE_URL: databaseUrl,
      ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      AUTH_MODE: "none",
      AUTH_ALLOW_NONE_WITH_DATABASE: "true",
      WORKERS: "none",
      // Per-delivery logs are debug; warnings about the bench setup (AUTH_MODE=none) are noise here.
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "error",
      META_APP_SECRET: APP_SECRET,
    });
    const flushes = process.env.BENCH_FLUSHES ? { maxConcurrentFlushes: Number(process.env.BENCH_FLUSHES) } : {};
    const service = await startService(config, createLogger({ level: config.logLevel, pretty: false }), { inboxWriter: flushes });
    url = `${service.url}/webhook`;
    stop = () => service.stop();
    writerStats = () => ({ ...service.app.inboxWriter.stats() });
  } else {
    const { startBareReference } = await import("./bare-reference.js");
    const bare = await startBareReference({ databaseUrl, appSecret: APP_SECRET, poolSize: POOL_SIZE });
    url = bare.url;
    stop = () => bare.stop();
  }

  const send = (message: FromChild) => process.send?.(message);
  process.on("message", (message: ToChild) => {
    if (message.type === "stats") {
      const rss = process.memoryUsage.rss();
      const cpu = process.cpuUsage();
      send({
        type: "stats",
        rss,
        peakRss: Math.max(peakRss, rss),
        cpuMicros: cpu.user + cpu.system,
        heapUsed: process.memoryUsage().heapUsed,
        ...(writerStats ? { writer: writerStats() } : {}),
      });
      if (message.resetPeak) peakRss = rss;
    }
    if (message.type === "stop") {
      void stop().then(() => {
        send({ type: "stopped" });
        process.disconnect();
      });
    }
  });
  send({ type: "ready", url, idleRss: process.memoryUsage.rss() });
}

// ------------------------------------------------------------------ parent: drive and report

interface ChildServer {
  target: Target;
  url: string;
  /** RSS once started, before any load. */
  idleRss: number;
  child: ChildProcess;
  stats(resetPeak?: boolean): Promise<ChildStats>;
  stop(): Promise<void>;
}

/**
 * Compiles the service, the bare reference and this file with tsc into a
 * temporary directory, so the servers run as production does (`node` on
 * JavaScript): under tsx a process carries the loader and every transpiled
 * source, ~80 MB of RSS the real service does not have. node_modules,
 * migrations and fixtures are linked in, so resolution works as in the repo.
 */
async function compile(): Promise<{ entry: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), "bench-ingest-"));
  await symlink(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
  await symlink(path.join(ROOT, "migrations"), path.join(dir, "migrations"));
  await writeFile(
    path.join(dir, "tsconfig.json"),
    JSON.stringify({
      extends: path.join(ROOT, "tsconfig.json"),
      compilerOptions: { noEmit: false, sourceMap: false, outDir: dir, rootDir: ROOT },
      include: [path.join(ROOT, "src"), path.join(ROOT, "gen"), path.join(ROOT, "bench/ingest.ts")],
      exclude: [path.join(ROOT, "src/**/*.test.ts")],
    }),
  );
  const cleanup = () => rm(dir, { recursive: true, force: true });
  // Type errors elsewhere in a working tree do not stop the emit; a missing entry does.
  await promisify(execFile)(process.execPath, [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", path.join(dir, "tsconfig.json")]).catch(() => undefined);
  await symlink(path.join(ROOT, "test/fixtures"), path.join(dir, "test/fixtures")).catch(() => undefined);
  const entry = path.join(dir, "bench/ingest.js");
  try {
    await access(entry);
  } catch {
    await cleanup();
    throw new Error("bench/ingest: compiling with tsc produced no bench/ingest.js; run with --tsx to skip compiling");
  }
  return { entry, cleanup };
}

/** `entry` undefined: run this very file through tsx. */
function spawnServer(target: Target, databaseUrl: string, flushes: number | undefined, entry: string | undefined): Promise<ChildServer> {
  const profile = process.env.BENCH_PROFILE === target ? ["--cpu-prof", `--cpu-prof-dir=${path.join(ROOT, "bench/profiles")}`] : [];
  const child = fork(entry ?? fileURLToPath(import.meta.url), ["--serve", target], {
    execArgv: [...(entry ? [] : ["--import", "tsx"]), ...profile],
    env: { ...process.env, BENCH_DATABASE_URL: databaseUrl, ...(flushes ? { BENCH_FLUSHES: String(flushes) } : {}) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const ask = <T extends FromChild["type"]>(message: ToChild, answer: T) =>
    new Promise<Extract<FromChild, { type: T }>>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.off("message", onMessage);
        reject(new Error(`${target} did not answer "${message.type}" within ${IPC_TIMEOUT_MS} ms`));
      }, IPC_TIMEOUT_MS);
      const onMessage = (reply: FromChild) => {
        if (reply.type !== answer) return;
        clearTimeout(timer);
        child.off("message", onMessage);
        resolve(reply as Extract<FromChild, { type: T }>);
      };
      child.on("message", onMessage);
      child.send(message);
    });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${target} exited with code ${code} before it was ready`)));
    child.on("message", (message: FromChild) => {
      if (message.type !== "ready") return;
      resolve({
        target,
        url: message.url,
        idleRss: message.idleRss,
        child,
        stats: (resetPeak = false) => ask({ type: "stats", resetPeak }, "stats"),
        stop: async () => void (await ask({ type: "stop" }, "stopped")),
      });
    });
  });
}

interface PhaseResult {
  target: Target;
  sent: number;
  ok: number;
  failures: Record<string, number>;
  seconds: number;
  latenciesMs: number[];
  peakRss: number;
  cpuMicros: number;
}

function post(agent: http.Agent, url: URL, delivery: SignedDelivery): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        timeout: REQUEST_TIMEOUT_MS,
        headers: {
          "content-type": "application/json",
          "content-length": delivery.body.length,
          "x-hub-signature-256": delivery.signature,
        },
      },
      (res) => {
        res.resume();
        res.once("end", () => resolve(res.statusCode ?? 0));
        res.once("error", (error) => resolve(error.message));
      },
    );
    req.once("timeout", () => req.destroy(new Error("timeout")));
    req.once("error", (error) => resolve((error as NodeJS.ErrnoException).code ?? error.message));
    req.end(delivery.body);
  });
}

/** Runs `drive` against `server`, with the server's CPU time and peak RSS over exactly that span. */
async function measured(server: ChildServer, sent: number, drive: (result: PhaseResult) => Promise<void>): Promise<PhaseResult> {
  const result: PhaseResult = { target: server.target, sent, ok: 0, failures: {}, seconds: 0, latenciesMs: [], peakRss: 0, cpuMicros: 0 };
  const before = await server.stats(true);
  const started = performance.now();
  await drive(result);
  result.seconds = (performance.now() - started) / 1000;
  const after = await server.stats();
  result.peakRss = after.peakRss;
  result.cpuMicros = after.cpuMicros - before.cpuMicros;
  return result;
}

/** `concurrency` requests in flight until every delivery was sent. */
function closedLoop(server: ChildServer, deliveries: SignedDelivery[], concurrency: number): Promise<PhaseResult> {
  return measured(server, deliveries.length, async (result) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const url = new URL(server.url);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < deliveries.length; i = next++) {
        const sentAt = performance.now();
        record(result, await post(agent, url, deliveries[i]!), performance.now() - sentAt);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, deliveries.length) }, worker));
    agent.destroy();
  });
}

/** One request every 1/rate s, whatever the answers do; latency counts from the scheduled start. */
function openLoop(server: ChildServer, deliveries: SignedDelivery[], rate: number): Promise<PhaseResult> {
  return measured(server, deliveries.length, async (result) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
    const url = new URL(server.url);
    const intervalMs = 1000 / rate;
    const inFlight: Promise<void>[] = [];
    const started = performance.now();
    await new Promise<void>((resolve) => {
      let i = 0;
      const tick = () => {
        const due = Math.min(deliveries.length, Math.floor((performance.now() - started) / intervalMs) + 1);
        for (; i < due; i++) {
          const scheduledAt = started + i * intervalMs;
          inFlight.push(post(agent, url, deliveries[i]!).then((outcome) => record(result, outcome, performance.now() - scheduledAt)));
        }
        if (i < deliveries.length) setTimeout(tick, Math.max(0, started + i * intervalMs - performance.now()));
        else resolve();
      };
      tick();
    });
    await Promise.all(inFlight);
    agent.destroy();
  });
}

function record(result: PhaseResult, outcome: number | string, ms: number): void {
  result.latenciesMs.push(ms);
  if (outcome === 200) result.ok++;
  else result.failures[String(outcome)] = (result.failures[String(outcome)] ?? 0) + 1;
}

/** Rounds of one target merged: counts and latencies summed, req/s and CPU kept per round. */
interface Summary {
  target: Target;
  sent: number;
  ok: number;
  failures: Record<string, number>;
  /** Requests/s of each round, for the median. */
  roundRps: number[];
  latenciesMs: number[];
  peakRss: number;
  cpuMicrosPerDelivery: number;
}

function summarise(target: Target, rounds: PhaseResult[]): Summary {
  const failures: Record<string, number> = {};
  for (const r of rounds) for (const [k, v] of Object.entries(r.failures)) failures[k] = (failures[k] ?? 0) + v;
  const sent = rounds.reduce((n, r) => n + r.sent, 0);
  return {
    target,
    sent,
    ok: rounds.reduce((n, r) => n + r.ok, 0),
    failures,
    roundRps: rounds.map((r) => r.ok / r.seconds),
    latenciesMs: rounds.flatMap((r) => r.latenciesMs).sort((a, b) => a - b),
    peakRss: Math.max(...rounds.map((r) => r.peakRss)),
    cpuMicrosPerDelivery: rounds.reduce((n, r) => n + r.cpuMicros, 0) / Math.max(1, sent),
  };
}

/** Unique, realistic deliveries: one inbound text each (≈ 500 bytes), some non-ASCII, signed like Meta. */
function makeDeliveries(count: number): SignedDelivery[] {
  const texts = ["Hola, quiero un café", "¿Tienen envío a domicilio? 😮", "ok gracias", "Pedido #1042: https://example.com/o/1042"];
  return Array.from({ length: count }, (_, i) => {
    const from = `1650555${String(i % 10_000).padStart(4, "0")}`;
    const payload = metaEnvelope("102290129340398", [
      messagesChange({
        phoneNumberId: "106540352242922",
        contacts: [contact(from, `Cliente ${i % 997}`)],
        messages: [textMessage({ from, body: `${texts[i % texts.length]} (${i})` })],
      }),
    ]);
    return signDelivery(payload, APP_SECRET);
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface Options {
  deliveries: number;
  concurrency: number;
  rounds: number;
  rate: number;
  seconds: number;
  warmup: number;
  flushes: number | undefined;
  strict: boolean;
  /** Run the servers through tsx instead of compiling them first (quicker; RSS then includes tsx). */
  tsx: boolean;
}

function parseOptions(argv: string[]): Options {
  const flags = new Map(argv.filter((a) => a.startsWith("--")).map((a) => a.slice(2).split("=") as [string, string | undefined]));
  const number = (name: string, fallback: number, min: number, max: number) => {
    const raw = flags.get(name) ?? process.env[`BENCH_${name.toUpperCase()}`];
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) throw new Error(`--${name}: an integer from ${min} to ${max}`);
    return value;
  };
  return {
    deliveries: number("deliveries", 30_000, 1, 1_000_000),
    concurrency: number("concurrency", 64, 1, 1024),
    rounds: number("rounds", 3, 1, 20),
    rate: number("rate", 1000, 1, 20_000),
    seconds: number("seconds", 10, 1, 300),
    warmup: number("warmup", 5000, 0, 100_000),
    flushes: flags.has("flushes") ? number("flushes", 2, 1, 16) : undefined,
    strict: flags.has("strict"),
    tsx: flags.has("tsx"),
  };
}

const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
const fixed = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "-");

function printTable(rows: { phase: string; summary: Summary; rps: number }[]): void {
  const header = ["phase", "target", "sent", "200", "other", "req/s", "p50 ms", "p99 ms", "max ms", "CPU µs/req", "peak RSS"];
  const cells = rows.map(({ phase, summary: s, rps }) => [
    phase,
    s.target,
    String(s.sent),
    String(s.ok),
    Object.entries(s.failures).map(([k, v]) => `${k}×${v}`).join(" ") || "0",
    fixed(rps, 0),
    fixed(percentile(s.latenciesMs, 50), 2),
    fixed(percentile(s.latenciesMs, 99), 2),
    fixed(s.latenciesMs.at(-1) ?? NaN, 1),
    fixed(s.cpuMicrosPerDelivery, 0),
    mb(s.peakRss),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(line(header));
  for (const row of cells) console.log(line(row));
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const database = await createTestDatabase("bench_ingest");
  const servers: ChildServer[] = [];
  const deadline = setTimeout(() => {
    console.error(`bench/ingest: still running after ${RUN_DEADLINE_MS / 1000} s, giving up`);
    for (const server of servers) server.child.kill();
    void database.drop().finally(() => process.exit(2));
  }, RUN_DEADLINE_MS);
  deadline.unref();

  let failed = false;
  let build: Awaited<ReturnType<typeof compile>> | undefined;
  try {
    if (!options.tsx) {
      console.log("bench/ingest: compiling the servers with tsc (--tsx skips this)…");
      build = await compile();
    }
    // The service first: it applies the migrations to the fresh database.
    servers.push(await spawnServer("service", database.url, options.flushes, build?.entry));
    servers.push(await spawnServer("bare", database.url, undefined, build?.entry));
    const [service, bare] = servers as [ChildServer, ChildServer];

    // Every delivery is unique (a retry would be a row too, but unique bytes
    // make "stored == accepted" a check on the edge, not on the data).
    const perRound = Math.ceil(options.deliveries / options.rounds);
    const openCount = options.rate * options.seconds;
    const perTarget = options.warmup + perRound * options.rounds + openCount;
    const all = makeDeliveries(2 * perTarget);
    const batches = { service: all.slice(0, perTarget), bare: all.slice(perTarget) };
    const take = (target: Target, from: number, count: number) => batches[target].slice(from, from + count);
    const bodyBytes = Math.round(all.reduce((n, d) => n + d.body.length, 0) / all.length);
    console.log(
      `bench/ingest: ${perTarget} unique signed deliveries per target (≈${bodyBytes} bytes, one inbound text each); ` +
        `PostgreSQL pool ${POOL_SIZE} for both; loopback HTTP/1.1 keep-alive; ` +
        `closed loop ${options.rounds}×${perRound} at concurrency ${options.concurrency}, open loop ${options.rate}/s for ${options.seconds} s`,
    );

    const accepted: Record<Target, number> = { service: 0, bare: 0 };
    const count = (r: PhaseResult) => {
      accepted[r.target] += r.ok;
      return r;
    };
    for (const server of [service, bare]) count(await closedLoop(server, take(server.target, 0, options.warmup), options.concurrency));

    const closedRounds: Record<Target, PhaseResult[]> = { service: [], bare: [] };
    for (let round = 0; round < options.rounds; round++) {
      // Alternate who goes first, so neither always runs right after the other's load.
      const order = round % 2 === 0 ? [service, bare] : [bare, service];
      for (const server of order) {
        const slice = take(server.target, options.warmup + round * perRound, perRound);
        closedRounds[server.target].push(count(await closedLoop(server, slice, options.concurrency)));
      }
    }
    const openStart = options.warmup + perRound * options.rounds;
    const admin = postgres(database.url, { max: 1, onnotice: () => {} });
    // Flush the dirty pages of the previous phase first, so neither latency
    // phase pays for the other's writes (a checkpoint mid-phase is a spike).
    const settle = () => admin`checkpoint`.catch(() => console.log("      (no CHECKPOINT privilege: latency phases may include checkpoint spikes)"));
    await settle();
    const serviceOpen = count(await openLoop(service, take("service", openStart, openCount), options.rate));
    await settle();
    const bareOpen = count(await openLoop(bare, take("bare", openStart, openCount), options.rate));
    await admin.end({ timeout: 5 });
    const openResults: Record<Target, PhaseResult> = { service: serviceOpen, bare: bareOpen };

    const { writer, heapUsed: serviceHeapUsed } = await service.stats();
    for (const server of servers) await server.stop();

    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    const stored: Record<Target, number> = {
      service: Number((await sql`select count(*)::int as n from control.webhook_inbox`)[0]!.n),
      bare: Number((await sql.unsafe(`select count(*)::int as n from ${BARE_TABLE}`))[0]!.n),
    };
    await sql.end({ timeout: 5 });

    const closed = { service: summarise("service", closedRounds.service), bare: summarise("bare", closedRounds.bare) };
    const open = { service: summarise("service", [openResults.service]), bare: summarise("bare", [openResults.bare]) };
    const closedPhase = `closed c=${options.concurrency}`;
    const openPhase = `open ${options.rate}/s`;
    console.log("");
    printTable([
      { phase: closedPhase, summary: closed.service, rps: median(closed.service.roundRps) },
      { phase: closedPhase, summary: closed.bare, rps: median(closed.bare.roundRps) },
      { phase: openPhase, summary: open.service, rps: open.service.roundRps[0]! },
      { phase: openPhase, summary: open.bare, rps: open.bare.roundRps[0]! },
    ]);
    console.log("");
    const roundRatios = closed.service.roundRps.map((rps, i) => rps / closed.bare.roundRps[i]!);
    const ratio = median(closed.service.roundRps) / median(closed.bare.roundRps);
    const openP99 = percentile(open.service.latenciesMs, 99);
    const servicePeak = Math.max(closed.service.peakRss, open.service.peakRss);
    console.log(`      closed-loop req/s per round: service ${closed.service.roundRps.map((r) => fixed(r, 0)).join(", ")}; bare ${closed.bare.roundRps.map((r) => fixed(r, 0)).join(", ")}`);
    console.log(`      per-round ratios: ${roundRatios.map((r) => fixed(r, 2)).join(", ")}; CPU per delivery service/bare: ${fixed(closed.service.cpuMicrosPerDelivery / closed.bare.cpuMicrosPerDelivery, 2)}×`);
    console.log(
      `      RSS once started, before load: service ${mb(service.idleRss)}, bare ${mb(bare.idleRss)}; service JS heap in use at the end: ${mb(serviceHeapUsed)}` +
        (options.tsx ? " (servers run through tsx, which adds ~80 MB of RSS to the service)" : " (servers compiled with tsc, run by node)"),
    );
    if (writer) {
      console.log(
        `      group commit: ${writer.rowsCommitted} rows in ${writer.commits} INSERTs ` +
          `(avg ${fixed(writer.rowsCommitted! / Math.max(1, writer.commits!), 1)} rows, largest ${writer.largestBatch}); ` +
          `refused for a full queue: ${writer.refusedFull}`,
      );
    }
    const checks = [
      { name: `requests/s service/bare (${closedPhase}, median rounds)`, value: `${fixed(ratio, 2)}×`, pass: ratio >= 0.6, target: "≥ 0.60×, aim ≥ 1.00×" },
      { name: `service p99 at ${options.rate} deliveries/s`, value: `${fixed(openP99, 2)} ms`, pass: openP99 <= 50, target: "≤ 50 ms" },
      { name: "service peak RSS", value: mb(servicePeak), pass: servicePeak <= 256 * 1024 * 1024, target: "≤ 256 MB" },
    ];
    for (const c of checks) console.log(`${c.pass ? "PASS" : "MISS"}  ${c.name}: ${c.value} (target ${c.target})`);
    for (const target of ["service", "bare"] as const) {
      const same = stored[target] === accepted[target];
      console.log(`${same ? "PASS" : "FAIL"}  ${target}: stored ${stored[target]} rows, answered 200 to ${accepted[target]} deliveries`);
      if (!same) failed = true;
    }
    if (options.strict && checks.some((c) => !c.pass)) failed = true;
  } finally {
    clearTimeout(deadline);
    for (const server of servers) if (server.child.connected) server.child.kill();
    await database.drop();
    await build?.cleanup();
  }
  process.exitCode = failed ? 1 : 0;
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const serveIndex = process.argv.indexOf("--serve");
if (serveIndex !== -1) await serve(process.argv[serveIndex + 1] as Target);
else await main();
