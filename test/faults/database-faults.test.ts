/**
 * The service as an operator runs it (a real process), against a private
 * PostgreSQL cluster and a private nats-server, under signed webhook load,
 * while the database's backends are terminated, killed and the server
 * restarted, and NATS restarted. After each fault:
 *
 * - the process is still up;
 * - every delivery answered 200 is stored exactly once (nothing acknowledged
 *   before its commit), and the only other answer is 503 (Meta retries);
 * - while the database cannot commit, nothing is answered 200;
 * - the workers resume (every stored delivery is processed) and the relay
 *   regains leadership (every event is published).
 *
 * Load: 200 signed deliveries per second — what two shared cores bear next to
 * the other suites; the bench measures the edge at 1,000/s and more.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { openDatabase } from "../../src/adapters/postgres/db/database.js";
import { createMetaAccount, uniqueIds } from "../inbound/support/inbound-harness.js";
import { startNatsServer, type NatsTestServer } from "../support/nats-server.js";
import { startPrivatePostgres, type PrivatePostgres } from "../support/private-postgres.js";
import {
  SERVICE_APP_NAME,
  checkOutcomes,
  eventually,
  grpcHealth,
  httpStatus,
  scalar,
  startServiceProcess,
  startWebhookLoad,
  storedWamids,
  type Outcome,
  type ServiceProcess,
} from "./support/fault-harness.js";

const RATE = 200;

let pg: PrivatePostgres;
let nats: NatsTestServer;
let databaseUrl: string;
let service: ServiceProcess;
let phoneNumberId: string;
const figures: Record<string, unknown> = {};

/** Runs `fn` every `everyMs`, `times` times: the scenario's own clock (a fault once a second), not a wait for work. */
async function repeat(times: number, everyMs: number, fn: (i: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < times; i++) {
    const next = Date.now() + everyMs;
    await fn(i);
    const left = next - Date.now();
    if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
  }
}

/** First 200 for a delivery sent after `since`: how long the service took to commit again. */
function recoveryMs(outcomes: Outcome[], since: number): number | undefined {
  const first = outcomes.filter((o) => o.status === 200 && o.sentAt >= since).sort((a, b) => a.answeredAt - b.answeredAt)[0];
  return first === undefined ? undefined : first.answeredAt - since;
}

/** Waits for the workers to catch up; returns how long the inbox and the relay took after the load stopped. */
async function expectAllProcessedAndPublished(): Promise<{ processedMs: number; publishedMs: number }> {
  const from = Date.now();
  await eventually(
    "every stored delivery processed by the inbox worker",
    async () => ((await scalar<number>(databaseUrl, "select count(*)::int from control.webhook_inbox where status <> 'processed'")) === 0 ? true : undefined),
    90_000,
  ).catch(async (error: unknown) => {
    const left = await scalar<unknown>(
      databaseUrl,
      "select json_agg(t) from (select status, attempts, locked_until > now() as leased, left(error, 300) as error, count(*) from control.webhook_inbox where status <> 'processed' group by 1, 2, 3, 4) t",
    );
    throw new Error(`${String(error)}: ${JSON.stringify(left)}`);
  });
  const processedMs = Date.now() - from;
  await eventually(
    "every event published by the relay",
    async () => ((await scalar<number>(databaseUrl, "select count(*)::int from control.outbox where published_at is null")) === 0 ? true : undefined),
    90_000,
  );
  return { processedMs, publishedMs: Date.now() - from };
}

async function expectEveryOkStoredOnce(outcomes: Outcome[]): Promise<ReturnType<typeof checkOutcomes>> {
  const stored = await storedWamids(databaseUrl);
  const result = checkOutcomes(outcomes, stored);
  expect(result.okMissing).toEqual([]);
  expect(Object.keys(result.statuses).filter((s) => s !== "200" && s !== "503")).toEqual([]);
  expect([...stored.values()].filter((n) => n !== 1)).toEqual([]);
  return result;
}

beforeAll(async () => {
  [pg, nats] = await Promise.all([startPrivatePostgres(), startNatsServer()]);
  databaseUrl = await pg.createDatabase("faults");
  service = await startServiceProcess({ DATABASE_URL: databaseUrl, NATS_URL: nats.url, WHATSAPP_GRAPH_URL: "http://127.0.0.1:9" });
  const ids = uniqueIds("faults");
  phoneNumberId = ids.phoneNumberId;
  const handle = await openDatabase({ databaseUrl, dataDir: "unused" });
  try {
    await createMetaAccount(handle.db, ids);
  } finally {
    await handle.close();
  }
}, 180_000);

afterAll(async () => {
  if (service && !service.alive()) console.log(`service died: ${JSON.stringify(await service.exited)}\n${service.stderr().slice(-5000)}`);
  if (service?.alive()) {
    service.child.kill("SIGTERM");
    await service.exited;
  }
  await Promise.all([pg?.cleanup(), nats?.cleanup()]);
  console.log(`fault figures: ${JSON.stringify(figures)}`);
});

describe("database faults under webhook load", () => {
  it("when every service backend is terminated once a second for 10 s, then the process stays up, 200s are stored once, and it recovers", async () => {
    const load = startWebhookLoad({ url: service.url, phoneNumberId, perSecond: RATE });
    let terminated = 0;
    let lastFault = 0;
    await repeat(10, 1_000, async () => {
      terminated += await pg.terminate(SERVICE_APP_NAME);
      lastFault = Date.now();
    });
    await repeat(2, 1_000, async () => {});
    const outcomes = await load.stop();

    expect(service.alive()).toBe(true);
    expect(terminated).toBeGreaterThan(0);
    const result = await expectEveryOkStoredOnce(outcomes);
    expect(result.ok).toBeGreaterThan(0);
    const recovered = recoveryMs(outcomes, lastFault);
    expect(recovered).toBeDefined();
    const caughtUp = await expectAllProcessedAndPublished();
    figures.terminate = { sent: outcomes.length, terminated, statuses: result.statuses, storedNot200: result.storedNot200.length, recoveryMs: recovered, ...caughtUp };
  }, 120_000);

  it("when one backend is killed with SIGKILL (the postmaster resets every connection), then the process stays up and recovers", async () => {
    const load = startWebhookLoad({ url: service.url, phoneNumberId, perSecond: RATE });
    let killedAt = 0;
    let pid: number | undefined;
    await repeat(5, 1_000, async (i) => {
      if (i === 1) {
        pid = await pg.killOneBackend(SERVICE_APP_NAME);
        killedAt = Date.now();
      }
    });
    const outcomes = await load.stop();

    expect(pid).toBeDefined();
    expect(service.alive()).toBe(true);
    const result = await expectEveryOkStoredOnce(outcomes);
    const recovered = recoveryMs(outcomes, killedAt);
    expect(recovered).toBeDefined();
    const caughtUp = await expectAllProcessedAndPublished();
    figures.kill9 = { sent: outcomes.length, statuses: result.statuses, storedNot200: result.storedNot200.length, recoveryMs: recovered, ...caughtUp };
  }, 120_000);

  it("when PostgreSQL is stopped and started again, then only 503s are answered meanwhile, health says NOT_SERVING, and both recover", async () => {
    const load = startWebhookLoad({ url: service.url, phoneNumberId, perSecond: RATE });
    await repeat(1, 1_000, async () => {});
    const stopping = Date.now();
    await pg.stop();
    const stoppedAt = Date.now();
    const notServing = await eventually("gRPC health NOT_SERVING", async () => ((await grpcHealth(service.url)) === "NOT_SERVING" ? Date.now() : undefined));
    const perService = await grpcHealth(service.url, "whatsapp.v1.MessagingService");
    const dbHealth = await httpStatus(`${service.url}/health/db`);
    await repeat(2, 1_000, async () => {});
    const startedAt = Date.now();
    await pg.start();
    const upAt = Date.now();
    const serving = await eventually("gRPC health SERVING", async () => ((await grpcHealth(service.url)) === "SERVING" ? Date.now() : undefined));
    const dbHealthy = await eventually("/health/db 200", async () => ((await httpStatus(`${service.url}/health/db`)) === 200 ? Date.now() : undefined));
    await repeat(2, 1_000, async () => {});
    const outcomes = await load.stop();

    expect(service.alive()).toBe(true);
    expect(perService).toBe("NOT_SERVING");
    expect(dbHealth).toBe(503);
    // Nothing could be committed while the server was gone: no 200 was answered then (a delivery is held for its
    // commit a bounded time, then answered 503; one that arrived shortly before the start may commit after it).
    const answeredWhileDown = outcomes.filter((o) => o.answeredAt >= stoppedAt && o.answeredAt <= startedAt);
    expect(answeredWhileDown.filter((o) => o.status === 200 && o.sentAt >= stoppedAt)).toEqual([]);
    const result = await expectEveryOkStoredOnce(outcomes);
    const recovered = recoveryMs(outcomes, upAt);
    expect(recovered).toBeDefined();
    const caughtUp = await expectAllProcessedAndPublished();
    figures.restart = {
      ...caughtUp,
      answeredWhileDown: answeredWhileDown.length,
      storedNot200: result.storedNot200.length,
      sent: outcomes.length,
      statuses: result.statuses,
      stopMs: stoppedAt - stopping,
      notServingAfterStopMs: notServing - stoppedAt,
      servingAfterStartMs: serving - upAt,
      healthDbAfterStartMs: dbHealthy - upAt,
      webhooksRecoveredAfterStartMs: recovered,
    };
  }, 120_000);

  it("when NATS is restarted under load, then the process stays up, 200s are stored once and every event is still published", async () => {
    const load = startWebhookLoad({ url: service.url, phoneNumberId, perSecond: RATE });
    await repeat(1, 1_000, async () => {});
    await nats.stop();
    await repeat(2, 1_000, async () => {});
    await nats.start();
    await repeat(2, 1_000, async () => {});
    const outcomes = await load.stop();

    expect(service.alive()).toBe(true);
    const result = await expectEveryOkStoredOnce(outcomes);
    expect(result.statuses["503"] ?? 0).toBe(0);
    const caughtUp = await expectAllProcessedAndPublished();
    const published = await nats.collectEvents("WHATSAPP", "whatsapp.>");
    const ids = published.map((e) => e.msgId);
    expect(new Set(ids).size).toBe(ids.length);
    figures.nats = { sent: outcomes.length, statuses: result.statuses, eventsInStream: ids.length, ...caughtUp };
  }, 120_000);
});
