/**
 * bench/pipeline: the whole inbound pipeline of the real service — webhook
 * edge, inbox worker, outbox relay — timed from each delivery's send to its
 * message.received event's arrival at a separate NATS subscriber (SPEC §10:
 * webhook → event p99 ≤ 100 ms at 1,000 deliveries/s).
 *
 *   npx tsx bench/pipeline.ts [--rate=1000] [--seconds=10] [--senders=200] [--drain-seconds=60]
 *
 * The service runs in its own child process (startService, every worker on,
 * NATS_URL pointing at a private nats-server started here, a fresh
 * PostgreSQL database); the parent sends signed deliveries open-loop over
 * keep-alive HTTP/1.1 on loopback and subscribes to the tenant's
 * message.received subject. Latency is measured from each delivery's
 * *scheduled* send time, so a stall shows instead of slowing the sender.
 * Bounded: rate × seconds deliveries, then at most --drain-seconds to wait
 * for the events. Exit code 1 when an event is missing or duplicated.
 */
import { fork, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import http from "node:http";

import { fromBinary } from "@bufbuild/protobuf";
import { connect } from "@nats-io/transport-node";
import postgres from "postgres";
import { v7 as uuidv7 } from "uuid";

import { MessageReceivedEventSchema } from "../gen/whatsapp/v1/events_pb.js";
import { createTestDatabase } from "../test/support/database.js";
import { contact, messagesChange, metaEnvelope, signDelivery, textMessage } from "../test/support/meta-simulator.js";
import { startNatsServer } from "../test/support/nats-server.js";

const APP_SECRET = "bench-pipeline-app-secret";
const TENANT = "bench-pipeline";
const PHONE_NUMBER_ID = "109876543210";
const WABA_ID = "209876543210";
const STREAM = "BENCH_PIPELINE";
const REQUEST_TIMEOUT_MS = 10_000;

type ToChild = { type: "stats" } | { type: "stop" };
type FromChild = { type: "ready"; url: string; idleRss: number } | { type: "stats"; rss: number; peakRss: number; cpuMicros: number } | { type: "stopped" };

// ------------------------------------------------------------------ child: the service

async function serve(): Promise<void> {
  let peakRss = process.memoryUsage.rss();
  setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50).unref();
  const [{ loadConfig }, { createLogger }, { startService }] = await Promise.all([
    import("../src/config.js"),
    import("../src/observability/logger.js"),
    import("../src/server.js"),
  ]);
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_URL: env("BENCH_DATABASE_URL"),
    NATS_URL: env("BENCH_NATS_URL"),
    NATS_STREAM: STREAM,
    ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    AUTH_MODE: "none",
    AUTH_ALLOW_NONE_WITH_DATABASE: "true",
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "error",
    META_APP_SECRET: APP_SECRET,
  });
  const service = await startService(config, createLogger({ level: config.logLevel, pretty: false }));
  await service.app.accounts.create({
    id: uuidv7(),
    tenantId: TENANT,
    provider: "meta",
    displayName: "Bench number",
    phoneNumberId: PHONE_NUMBER_ID,
    wabaId: WABA_ID,
    displayPhoneNumber: "+15550783881",
    businessId: "biz-bench",
    rateLimitPerSecond: 80,
    status: "active",
    credentials: {},
    metadata: {},
  });
  const send = (message: FromChild) => process.send?.(message);
  process.on("message", (message: ToChild) => {
    if (message.type === "stats") {
      const rss = process.memoryUsage.rss();
      const cpu = process.cpuUsage();
      send({ type: "stats", rss, peakRss: Math.max(peakRss, rss), cpuMicros: cpu.user + cpu.system });
    } else {
      void service.stop().then(() => {
        send({ type: "stopped" });
        process.disconnect();
      });
    }
  });
  send({ type: "ready", url: `${service.url}/webhook`, idleRss: process.memoryUsage.rss() });
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

// ------------------------------------------------------------------ parent: drive and measure

function option(name: string, fallback: number): number {
  const flag = process.argv.find((a) => a.startsWith(`--${name}=`));
  const raw = flag?.split("=")[1] ?? process.env[`BENCH_${name.toUpperCase().replace(/-/g, "_")}`];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
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
  const total = Math.round(rate * seconds);

  const nats = await startNatsServer();
  const database = await createTestDatabase("bench_pipeline");
  const child = fork(new URL(import.meta.url).pathname, ["--serve"], {
    // BENCH_CPU_PROF=<dir>: a V8 CPU profile of the service, written when it stops.
    execArgv: ["--import", "tsx", ...(process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [])],
    env: { ...process.env, BENCH_DATABASE_URL: database.url, BENCH_NATS_URL: nats.url },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let exitCode = 0;
  try {
    const ready = await new Promise<Extract<FromChild, { type: "ready" }>>((resolve, reject) => {
      child.once("message", (m: FromChild) => (m.type === "ready" ? resolve(m) : reject(new Error("unexpected first message"))));
      child.once("exit", (code) => reject(new Error(`service exited with ${code}`)));
    });
    const url = new URL(ready.url);

    // Every delivery signed up front: the send loop only sends.
    const base = Math.floor(Date.now() / 1000);
    const deliveries = Array.from({ length: total }, (_, i) => {
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
    const latencies: number[] = [];
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

    const cpuBefore = ((await ask(child, { type: "stats" }, "stats")) as Extract<FromChild, { type: "stats" }>).cpuMicros;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    const answers = new Map<number, number>();
    const sends: Promise<void>[] = [];
    const started = performance.now();
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      const delivery = deliveries[i]!;
      sentAt.set(delivery.wamid, due);
      sends.push(post(agent, url, delivery.body, delivery.signature).then((status) => void answers.set(status, (answers.get(status) ?? 0) + 1)));
    }
    const sendSeconds = (performance.now() - started) / 1000;
    await Promise.all(sends);
    const accepted = answers.get(200) ?? 0;

    const deadline = performance.now() + drainSeconds * 1000;
    while (latencies.length < accepted && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const stats = (await ask(child, { type: "stats" }, "stats")) as Extract<FromChild, { type: "stats" }>;
    subscription.unsubscribe();
    await nc.close();
    agent.destroy();

    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    const [inbox] = await sql<{ processed: number; span_s: number }[]>`
      select count(*) filter (where status = 'processed')::int as processed,
             extract(epoch from max(processed_at) - min(received_at))::float8 as span_s
        from control.webhook_inbox`;
    await sql.end();

    latencies.sort((a, b) => a - b);
    const fmt = (n: number) => n.toFixed(1);
    const received = latencies.length;
    console.log(`deliveries sent      ${total} at ${rate}/s over ${fmt(sendSeconds)} s; answers ${[...answers].map(([s, n]) => `${s || "error"}×${n}`).join(", ")}`);
    console.log(`accepted/s           ${fmt(accepted / sendSeconds)}`);
    console.log(`processed/s          ${fmt((inbox?.processed ?? 0) / (inbox?.span_s || 1))} (${inbox?.processed ?? 0} inbox rows, first received → last processed ${fmt(inbox?.span_s ?? 0)} s)`);
    console.log(`events               ${received} received of ${accepted} expected; ${duplicates} duplicate or unknown; last ${fmt((lastArrival - started) / 1000)} s after the first send`);
    console.log(`webhook → event ms   p50 ${fmt(percentile(latencies, 50))}  p95 ${fmt(percentile(latencies, 95))}  p99 ${fmt(percentile(latencies, 99))}  max ${fmt(latencies.at(-1) ?? NaN)}`);
    console.log(`service RSS          idle ${Math.round(ready.idleRss / 2 ** 20)} MB, now ${Math.round(stats.rss / 2 ** 20)} MB, peak ${Math.round(stats.peakRss / 2 ** 20)} MB; CPU ${Math.round((stats.cpuMicros - cpuBefore) / total)} µs per delivery`);
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
  }
  process.exit(exitCode);
}

if (process.argv.includes("--serve")) await serve();
else await main();
