/**
 * Issue 17 acceptance 3: `/metrics` answers Prometheus text that a parser
 * accepts (on the service port and on METRICS_ADDRESS), and after a scripted
 * run — inbound messages, sends, a refused send, statuses, a forged webhook —
 * the counters show exactly those numbers.
 */
import { randomBytes } from "node:crypto";

import parsePrometheusTextFormat, { type PrometheusFamily } from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";

import { MessageStatus } from "../../gen/whatsapp/v1/message_pb.js";
import { MessagingService } from "../../gen/whatsapp/v1/messaging_pb.js";
import { FAST_SENDER } from "../outbound/support/outbound-harness.js";
import { eventually } from "../kit/eventually.js";
import { GraphSimulator } from "../support/graph-simulator.js";
import { contact, deliver, messagesChange, metaEnvelope, newWamid, statusUpdate, textMessage, type StatusName } from "../support/meta-simulator.js";
import { startNatsServer, type NatsTestServer } from "../support/nats-server.js";
import { clientFor, closeClientSessions, startTestService, type TestService } from "../support/service.js";

const APP_SECRET = "metrics-app-secret";
const STREAM = `METRICS_${randomBytes(3).toString("hex")}`;
const suffix = randomBytes(4).toString("hex");
const TENANT = `metrics-${suffix}`;
const PHONE_NUMBER_ID = `4${String(parseInt(suffix, 16)).padStart(10, "0")}`;
const DISPLAY = "15550783883";
const customer = () => `1415${String(2_000_000 + Math.floor(Math.random() * 7_999_999))}`;
const ANA = customer();
const BEN = customer();
/** Meta refuses every message to this one (131026, undeliverable): a permanent failure. */
const REFUSED = customer();

let nats: NatsTestServer;
let simulator: GraphSimulator;
let service: TestService;
let accountId: string;

beforeAll(async () => {
  nats = await startNatsServer();
  simulator = await GraphSimulator.start();
  simulator.failRecipient(REFUSED, 131026);
  service = await startTestService({
    env: {
      META_APP_SECRET: APP_SECRET,
      NATS_URL: nats.url,
      NATS_STREAM: STREAM,
      NATS_STREAM_MAX_AGE_SECONDS: "3600",
      WHATSAPP_GRAPH_URL: simulator.url,
      WORKERS: "inbox,relay,sender",
      LOG_LEVEL: "info",
      METRICS_ADDRESS: "127.0.0.1:0",
    },
    overrides: { sender: FAST_SENDER },
  });
  const account = await service.service.app.accounts.create({
    id: uuidv7(),
    tenantId: TENANT,
    provider: "meta",
    displayName: "Metrics number",
    phoneNumberId: PHONE_NUMBER_ID,
    wabaId: `2${PHONE_NUMBER_ID}`,
    displayPhoneNumber: `+${DISPLAY}`,
    businessId: "biz-metrics",
    rateLimitPerSecond: 80,
    status: "active",
    credentials: { accessToken: "token-metrics" },
    metadata: {},
  });
  accountId = account.id;
});

afterAll(async () => {
  closeClientSessions();
  await service?.cleanup();
  await simulator?.close();
  await nats?.cleanup();
});

async function scrape(base: string): Promise<PrometheusFamily[]> {
  const response = await fetch(`${base}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusTextFormat(await response.text());
}

/** The value of `name` for the sample whose labels include `labels` (0 when there is none). */
function valueOf(families: PrometheusFamily[], name: string, labels: Record<string, string> = {}): number {
  const family = families.find((f) => f.name === name);
  const sample = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (!sample) return 0;
  return Number(sample.value ?? sample.count ?? 0);
}

async function signed(payload: unknown): Promise<void> {
  const answer = await deliver(`${service.service.url}/webhook`, payload, { appSecret: APP_SECRET });
  expect(answer.status).toBe(200);
}

function statuses(wamid: string, to: string, names: StatusName[]) {
  return metaEnvelope(`2${PHONE_NUMBER_ID}`, [
    messagesChange({ phoneNumberId: PHONE_NUMBER_ID, displayPhoneNumber: DISPLAY, statuses: names.map((status) => statusUpdate({ id: wamid, status, recipientId: to })) }),
  ]);
}

describe("/metrics", () => {
  it("when scraped, then the service port and METRICS_ADDRESS both answer Prometheus text with process metrics and every family declared", async () => {
    expect(service.service.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    for (const base of [service.service.url, service.service.metricsUrl!]) {
      const families = await scrape(base);
      const names = families.map((f) => f.name);
      expect(names).toEqual(expect.arrayContaining(["process_cpu_user_seconds_total", "nodejs_eventloop_lag_seconds", "whatsapp_inbox_backlog", "whatsapp_outbox_backlog"]));
      expect(families.find((f) => f.name === "whatsapp_rpc_duration_seconds")?.type).toBe("HISTOGRAM");
    }
    // The separate listener serves /metrics only.
    expect((await fetch(`${service.service.metricsUrl!}/v1/accounts`)).status).toBe(404);
  });

  it("when a scripted run is done (inbound, sends, a refused send, statuses, a forged webhook), then the counters show exactly those numbers", async () => {
    // Two customers write (one delivery, two messages): opens their windows.
    await signed(
      metaEnvelope(`2${PHONE_NUMBER_ID}`, [
        messagesChange({
          phoneNumberId: PHONE_NUMBER_ID,
          displayPhoneNumber: DISPLAY,
          contacts: [contact(ANA, "Ana"), contact(BEN, "Ben"), contact(REFUSED, "Rita")],
          messages: [
            textMessage({ from: ANA, id: newWamid(), body: "hola" }),
            textMessage({ from: BEN, id: newWamid(), body: "hello" }),
            textMessage({ from: REFUSED, id: newWamid(), body: "hi" }),
          ],
        }),
      ]),
    );
    // A forged delivery: refused, nothing stored.
    const forged = await deliver(`${service.service.url}/webhook`, { object: "whatsapp_business_account", entry: [] }, { appSecret: "not-the-secret" });
    expect(forged.status).toBe(401);

    const messaging = clientFor(MessagingService, service.service.url, TENANT);
    await eventually("the expected state", async () => (valueOf(await scrape(service.service.url), "whatsapp_messages_received_total", { account_id: accountId }) === 3 ? true : undefined), { timeoutMs: 20_000 });
    const ids: string[] = [];
    for (const to of [ANA, BEN, REFUSED]) {
      const { message } = await messaging.sendMessage({ accountId, to: `+${to}`, content: { case: "text", value: { body: "thanks" } } });
      ids.push(message!.id);
    }
    const status = async (id: string) => (await messaging.getMessage({ messageId: id })).message?.status;
    await eventually("the expected state", async () => ((await status(ids[2]!)) === MessageStatus.FAILED ? true : undefined), { timeoutMs: 20_000 });
    const wamidOf = async (id: string) => eventually("the expected state", async () => simulator.acceptedFor(id)[0]?.wamid, { timeoutMs: 20_000 });
    const anaWamid = await wamidOf(ids[0]!);
    await wamidOf(ids[1]!);
    // Ana's message is delivered and read; Ben's is only sent.
    await signed(statuses(anaWamid, ANA, ["sent", "delivered", "read"]));
    await eventually("the expected state", async () => ((await status(ids[0]!)) === MessageStatus.READ ? true : undefined), { timeoutMs: 20_000 });

    const families = await eventually("the expected state", async () => {
      const f = await scrape(service.service.url);
      return valueOf(f, "whatsapp_messages_read_total", { account_id: accountId }) === 1 ? f : undefined;
    }, { timeoutMs: 20_000 });
    const account = { account_id: accountId };
    expect(valueOf(families, "whatsapp_messages_received_total", account)).toBe(3);
    expect(valueOf(families, "whatsapp_messages_sent_total", account)).toBe(2);
    expect(valueOf(families, "whatsapp_messages_delivered_total", account)).toBe(1);
    expect(valueOf(families, "whatsapp_messages_read_total", account)).toBe(1);
    expect(valueOf(families, "whatsapp_messages_failed_total", account)).toBe(1);
    expect(valueOf(families, "whatsapp_webhook_requests_total", { result: "accepted" })).toBe(2);
    expect(valueOf(families, "whatsapp_webhook_requests_total", { result: "signature_mismatch" })).toBe(1);
    // Histograms: the parser keeps only their buckets, so their counts are read off the text itself.
    const text = await (await fetch(`${service.service.url}/metrics`)).text();
    expect(text).toMatch(/^whatsapp_webhook_request_duration_seconds_count\{result="accepted"\} 2$/m);
    expect(valueOf(families, "whatsapp_rpc_requests_total", { rpc_service: "whatsapp.v1.MessagingService", rpc_method: "SendMessage", code: "OK" })).toBe(3);
    expect(valueOf(families, "whatsapp_graph_api_errors_total", { operation: "messages", code: "131026" })).toBe(1);
    expect(text).toMatch(/^whatsapp_graph_api_request_duration_seconds_count\{operation="messages",outcome="ok"\} 2$/m);
    expect(valueOf(families, "whatsapp_send_circuit_state", account)).toBe(0);
    // No phone number in any label or value.
    for (const phone of [ANA, BEN, REFUSED]) expect(text).not.toContain(phone);
  });
});
