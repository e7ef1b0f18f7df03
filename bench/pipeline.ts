/**
 * bench/pipeline: the whole inbound pipeline of the real service — webhook
 * edge, inbox worker, outbox relay — timed from each delivery's send to its
 * message.received event's arrival at a separate NATS subscriber (SPEC §10:
 * webhook → event p99 ≤ 100 ms at 1,000 deliveries/s).
 *
 *   npx tsx bench/pipeline.ts [--rate=1000] [--seconds=10] [--warmup=2000] [--senders=200] [--drain-seconds=60] [--tsx]
 *
 * The service (bench/pipeline-service.ts: startService, every worker on,
 * NATS_URL pointing at a private nats-server started here, a fresh
 * PostgreSQL database) is compiled with tsc into a temporary directory and
 * run by `node` in its own child process, as production runs it (--tsx runs
 * it through tsx instead: quicker to start, ~80 MB more RSS). The parent
 * sends signed deliveries open-loop over keep-alive HTTP/1.1 on loopback and
 * subscribes to the tenant's message.received subject. Latency is measured
 * from each delivery's *scheduled* send time, so a stall shows instead of
 * slowing the sender. A warm-up of --warmup deliveries at the same rate
 * goes first and is not counted. Bounded: rate × seconds deliveries, then
 * at most --drain-seconds to wait for the events. Exit code 1 when an event
 * is missing or duplicated. bench/README.md explains the output.
 */
import { execFile, fork, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { access, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { fromBinary } from "@bufbuild/protobuf";
import { connect } from "@nats-io/transport-node";
import postgres from "postgres";

import { MessageReceivedEventSchema } from "../gen/whatsapp/v1/events_pb.js";
import { createTestDatabase } from "../test/support/database.js";
import { contact, messagesChange, metaEnvelope, signDelivery, textMessage } from "../test/support/meta-simulator.js";
import { startNatsServer } from "../test/support/nats-server.js";
import type { FromService as FromChild, ToService as ToChild } from "./pipeline-service.js";

const APP_SECRET = "bench-pipeline-app-secret";
const TENANT = "bench-pipeline";
const PHONE_NUMBER_ID = "109876543210";
const WABA_ID = "209876543210";
const STREAM = "BENCH_PIPELINE";
const REQUEST_TIMEOUT_MS = 10_000;
const ROOT = path.resolve(import.meta.dirname, "..");

/**
 * Compiles src/, gen/ and bench/pipeline-service.ts with tsc into a temporary
 * directory (node_modules and migrations linked in, so resolution works as in
 * the repo) and returns the service entry; like bench/ingest.ts.
 */
async function compile(): Promise<{ entry: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), "bench-pipeline-"));
  await symlink(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
  await symlink(path.join(ROOT, "migrations"), path.join(dir, "migrations"));
  await writeFile(
    path.join(dir, "tsconfig.json"),
    JSON.stringify({
      extends: path.join(ROOT, "tsconfig.json"),
      compilerOptions: { noEmit: false, sourceMap: false, outDir: dir, rootDir: ROOT },
      include: [path.join(ROOT, "src"), path.join(ROOT, "gen"), path.join(ROOT, "bench/pipeline-service.ts")],
      exclude: [path.join(ROOT, "src/**/*.test.ts")],
    }),
  );
  const cleanup = () => rm(dir, { recursive: true, force: true });
  // Type errors elsewhere in a working tree do not stop the emit; a missing entry does.
  await promisify(execFile)(process.execPath, [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", path.join(dir, "tsconfig.json")]).catch(() => undefined);
  const entry = path.join(dir, "bench/pipeline-service.js");
  try {
    await access(entry);
  } catch {
    await cleanup();
    throw new Error("bench/pipeline: compiling with tsc produced no bench/pipeline-service.js; run with --tsx to skip compiling");
  }
  return { entry, cleanup };
}

// ------------------------------------------------------------------ parent: drive and measure

function option(name: string, fallback: number, zeroAllowed = false): number {
  const flag = process.argv.find((a) => a.startsWith(`--${name}=`));
  const raw = flag?.split("=")[1] ?? process.env[`BENCH_${name.toUpperCase().replace(/-/g, "_")}`];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !zeroAllowed)) throw new Error(`--${name} must be a positive number`);
  return value;
}

function ask(child: ChildProcess, message: ToChild, expect: FromChild["type"]): Promise<FromChild> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child did not answer ${message.type}`)), 30_000);
    const onMessage = (answer: FromChild) => {
      if (answer.type !== expect) return;
      clearTimeout(timer);
      child.off("message", onMessage);
      resolve(answer);
    };
    child.on("message", onMessage);
    child.send(message);
  });
}

function post(agent: http.Agent, url: URL, body: Buffer, signature: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      url,
      {
        method: "POST",
        agent,
        timeout: REQUEST_TIMEOUT_MS,
        headers: { "content-type": "application/json", "content-length": body.length, "x-hub-signature-256": signature },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve(0));
    req.end(body);
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const rate = option("rate", 1000);
  const seconds = option("seconds", 10);
  const senders = option("senders", 200);
  const drainSeconds = option("drain-seconds", 60);
  const warmup = option("warmup", 2000, true);
  const total = Math.round(rate * seconds);

  const useTsx = process.argv.includes("--tsx");
  if (!useTsx) console.log("bench/pipeline: compiling the service with tsc (--tsx skips this)…");
  const build = useTsx ? undefined : await compile();
  const nats = await startNatsServer();
  const database = await createTestDatabase("bench_pipeline");
  const child = fork(build?.entry ?? path.join(ROOT, "bench/pipeline-service.ts"), [], {
    execArgv: build ? [] : ["--import", "tsx"],
    env: {
      ...process.env,
      BENCH_DATABASE_URL: database.url,
      BENCH_NATS_URL: nats.url,
      BENCH_APP_SECRET: APP_SECRET,
      BENCH_TENANT: TENANT,
      BENCH_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
      BENCH_WABA_ID: WABA_ID,
      BENCH_STREAM: STREAM,
    },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let exitCode = 0;
  try {
    const ready = await new Promise<Extract<FromChild, { type: "ready" }>>((resolve, reject) => {
      child.once("message", (m: FromChild) => (m.type === "ready" ? resolve(m) : reject(new Error("unexpected first message"))));
      child.once("exit", (code) => reject(new Error(`service exited with ${code}`)));
    });
    const url = new URL(ready.url);

    // Every delivery signed up front: the send loop only sends. The first `warmup` only warm the service up (JIT, pools).
    const base = Math.floor(Date.now() / 1000);
    const deliveries = Array.from({ length: warmup + total }, (_, i) => {
      const waId = `1650555${String(i % senders).padStart(4, "0")}`;
      const wamid = `wamid.bench${String(i).padStart(8, "0")}${randomBytes(12).toString("base64")}`;
      const payload = metaEnvelope(WABA_ID, [
        messagesChange({
          phoneNumberId: PHONE_NUMBER_ID,
          contacts: [contact(waId, `Cliente ${i % senders} José`)],
          messages: [textMessage({ from: waId, id: wamid, body: `Hola, quiero un café — pedido ${i} 😮`, timestamp: String(base) })],
        }),
      ]);
      return { wamid, ...signDelivery(payload, APP_SECRET) };
    });

    // The listener: a separate NATS connection, decoding with the generated types.
    const sentAt = new Map<string, number>();
    let latencies: number[] = [];
    let duplicates = 0;
    let lastArrival = 0;
    const nc = await connect({ servers: nats.url, name: "bench-listener" });
    const subscription = nc.subscribe(`whatsapp.${TENANT}.message.received`, {
      callback: (_error, msg) => {
        const now = performance.now();
        const event = fromBinary(MessageReceivedEventSchema, msg.data);
        const start = sentAt.get(event.wamid);
        if (start === undefined) {
          duplicates++;
          return;
        }
        sentAt.delete(event.wamid);
        latencies.push(now - start);
        lastArrival = now;
      },
    });
    await nc.flush();

    const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    /** Sends `batch` open loop at `rate`, waits (at most --drain-seconds) for their events. */
    const phase = async (batch: typeof deliveries) => {
      latencies = [];
      const answers = new Map<number, number>();
      const sends: Promise<void>[] = [];
      const started = performance.now();
      for (let i = 0; i < batch.length; i++) {
        const due = started + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
        const delivery = batch[i]!;
        sentAt.set(delivery.wamid, due);
        sends.push(post(agent, url, delivery.body, delivery.signature).then((status) => void answers.set(status, (answers.get(status) ?? 0) + 1)));
      }
      const sendSeconds = (performance.now() - started) / 1000;
      await Promise.all(sends);
      const accepted = answers.get(200) ?? 0;
      const deadline = performance.now() + drainSeconds * 1000;
      while (latencies.length < accepted && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      return { started, sendSeconds, answers, accepted };
    };

    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    if (warmup > 0) {
      const w = await phase(deliveries.slice(0, warmup));
      const wl = [...latencies].sort((x, y) => x - y);
      console.log(`warm-up              ${warmup} deliveries at ${rate}/s: ${wl.length} events, p99 ${percentile(wl, 99).toFixed(1)} ms (not counted)`);
      if (wl.length !== w.accepted) console.log(`warm-up: ${w.accepted - wl.length} events missing`);
    }
    const before = (await ask(child, { type: "stats" }, "stats")) as Extract<FromChild, { type: "stats" }>;
    const cpuBefore = before.cpuMicros;
    const [{ measured_from: measuredFrom } = { measured_from: "-infinity" }] = await sql<{ measured_from: string }[]>`select now()::text as measured_from`;
    // BENCH_CPU_PROF=<dir>: a V8 CPU profile of the service during the measured phase.
    const profileDir = process.env.BENCH_CPU_PROF;
    if (profileDir) await ask(child, { type: "profile", action: "start" }, "profiled");
    const { started, sendSeconds, answers, accepted } = await phase(deliveries.slice(warmup));
    const stats = (await ask(child, { type: "stats" }, "stats")) as Extract<FromChild, { type: "stats" }>;
    if (profileDir) {
      const file = path.resolve(profileDir, `pipeline-${new Date().toISOString().replace(/[:.]/g, "-")}.cpuprofile`);
      await ask(child, { type: "profile", action: "stop", file }, "profiled");
      console.log(`CPU profile          ${file}`);
    }
    subscription.unsubscribe();
    await nc.close();
    agent.destroy();

    const [inbox] = await sql<{ processed: number; span_s: number }[]>`
      select count(*) filter (where status = 'processed')::int as processed,
             extract(epoch from max(processed_at) - min(received_at))::float8 as span_s
        from control.webhook_inbox where received_at >= ${measuredFrom}::timestamptz`;
    // Where the time goes: received → processed (the inbox worker) and the processing transaction's start → published (the relay).
    const [stages] = await sql<Record<string, number>[]>`
      with inbox as (select extract(epoch from processed_at - received_at) * 1000 as ms from control.webhook_inbox where received_at >= ${measuredFrom}::timestamptz),
           relay as (select extract(epoch from published_at - created_at) * 1000 as ms from control.outbox where created_at >= ${measuredFrom}::timestamptz)
      select (select percentile_cont(0.5) within group (order by ms) from inbox)::float8 as inbox_p50,
             (select percentile_cont(0.99) within group (order by ms) from inbox)::float8 as inbox_p99,
             (select percentile_cont(0.5) within group (order by ms) from relay)::float8 as relay_p50,
             (select percentile_cont(0.99) within group (order by ms) from relay)::float8 as relay_p99`;
    await sql.end();
    const inboxDelta = Object.fromEntries(Object.entries(stats.inbox).map(([k, v]) => [k, v - (before.inbox[k] ?? 0)]));

    latencies.sort((a, b) => a - b);
    const fmt = (n: number) => n.toFixed(1);
    const received = latencies.length;
    console.log(`deliveries sent      ${total} at ${rate}/s over ${fmt(sendSeconds)} s; answers ${[...answers].map(([s, n]) => `${s || "error"}×${n}`).join(", ")}`);
    console.log(`accepted/s           ${fmt(accepted / sendSeconds)}`);
    console.log(`processed/s          ${fmt((inbox?.processed ?? 0) / (inbox?.span_s || 1))} (${inbox?.processed ?? 0} inbox rows, first received → last processed ${fmt(inbox?.span_s ?? 0)} s)`);
    console.log(`events               ${received} received of ${accepted} expected; ${duplicates} duplicate or unknown; last ${fmt((lastArrival - started) / 1000)} s after the first send`);
    console.log(`webhook → event ms   p50 ${fmt(percentile(latencies, 50))}  p95 ${fmt(percentile(latencies, 95))}  p99 ${fmt(percentile(latencies, 99))}  max ${fmt(latencies.at(-1) ?? NaN)}`);
    console.log(
      `stages ms            received → processed p50 ${fmt(stages?.inbox_p50 ?? NaN)} p99 ${fmt(stages?.inbox_p99 ?? NaN)}; ` +
        `processing started → published p50 ${fmt(stages?.relay_p50 ?? NaN)} p99 ${fmt(stages?.relay_p99 ?? NaN)}`,
    );
    console.log(`service RSS          idle ${Math.round(ready.idleRss / 2 ** 20)} MB, now ${Math.round(stats.rss / 2 ** 20)} MB, peak ${Math.round(stats.peakRss / 2 ** 20)} MB; CPU ${Math.round((stats.cpuMicros - cpuBefore) / total)} µs per delivery`);
    const perDelivery = (k: string, v: number) => Math.round(((v - (before.os[k] ?? 0)) / total) * 100) / 100;
    const osDelta = Object.entries(stats.os).filter(([k]) => !k.startsWith("stmt ")).map(([k, v]) => `${k} ${perDelivery(k, v)}`);
    if (osDelta.length > 0) console.log(`per delivery         ${osDelta.join(", ")}`);
    for (const [k, v] of Object.entries(stats.os).filter(([key]) => key.startsWith("stmt "))) {
      if (v - (before.os[k] ?? 0) > 0) console.log(`  ${perDelivery(k, v).toFixed(2).padStart(6)}  ${k.slice(5)}`);
    }
    console.log(`inbox worker         ${Object.entries(inboxDelta).filter(([, v]) => v !== 0).map(([k, v]) => `${k} ${v}`).join(", ")}`);
    const p99 = percentile(latencies, 99);
    console.log(`${p99 <= 100 && received === accepted ? "PASS" : "MISS"}  webhook → event p99 ≤ 100 ms at ${rate}/s (SPEC §10): ${fmt(p99)} ms`);
    if (received !== accepted || duplicates > 0) {
      console.log(`FAIL  events: ${received} of ${accepted}, ${duplicates} duplicates`);
      exitCode = 1;
    }
  } finally {
    if (child.connected) await ask(child, { type: "stop" }, "stopped").catch(() => child.kill("SIGKILL"));
    await database.drop();
    await nats.cleanup();
    await build?.cleanup();
  }
  process.exit(exitCode);
}

await main();
