/**
 * Issue 17 acceptance 2 and 4: with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a
 * local OTLP receiver (http/json), the real service (every worker, a private
 * nats-server, the Graph API simulator) exports traces that follow the work
 * across its queues, and its log lines carry the trace they were written in.
 */
import { randomBytes } from "node:crypto";

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";

import { MessagingService } from "../../gen/whatsapp/v1/messaging_pb.js";
import { AccountService } from "../../gen/whatsapp/v1/account_pb.js";
import { shutdownTracing, startTracing } from "../../src/observability/tracing.js";
import { FAST_SENDER } from "../outbound/support/outbound-harness.js";
import { eventually } from "../kit/eventually.js";
import { GraphSimulator } from "../support/graph-simulator.js";
import { contact, deliver, messagesChange, metaEnvelope, newWamid, textMessage } from "../support/meta-simulator.js";
import { startNatsServer, type NatsTestServer } from "../support/nats-server.js";
import { OtlpReceiver, SPAN_KIND, type ReceivedSpan } from "../support/otlp-receiver.js";
import { clientFor, closeClientSessions, startTestService, tenantHeader, transportFor, type TestService } from "../support/service.js";
import { createClient } from "@connectrpc/connect";

const APP_SECRET = "tracing-app-secret";
const STREAM = `TRACE_${randomBytes(3).toString("hex")}`;
const suffix = randomBytes(4).toString("hex");
const TENANT = `trace-${suffix}`;
const PHONE_NUMBER_ID = `3${String(parseInt(suffix, 16)).padStart(10, "0")}`;
const TOKEN = `token-${randomBytes(6).toString("hex")}`;
const CUSTOMER = `1415${(2_000_000 + Math.floor(Math.random() * 7_999_999)).toString()}`;

let receiver: OtlpReceiver;
let nats: NatsTestServer;
let simulator: GraphSimulator;
let service: TestService;
let accountId: string;

beforeAll(async () => {
  receiver = await OtlpReceiver.start();
  // The SDK reads only the standard variables; a short batch delay so spans arrive while the test polls.
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
  process.env.OTEL_EXPORTER_OTLP_PROTOCOL = "http/json";
  process.env.OTEL_BSP_SCHEDULE_DELAY = "50";
  process.env.OTEL_SERVICE_NAME = "whatsapp-service-test";
  expect(startTracing()).toBeDefined();
  nats = await startNatsServer();
  simulator = await GraphSimulator.start();
  simulator.setToken(PHONE_NUMBER_ID, TOKEN);
  service = await startTestService({
    env: {
      META_APP_SECRET: APP_SECRET,
      NATS_URL: nats.url,
      NATS_STREAM: STREAM,
      NATS_STREAM_MAX_AGE_SECONDS: "3600",
      WHATSAPP_GRAPH_URL: simulator.url,
      WORKERS: "inbox,relay,sender",
      LOG_LEVEL: "info",
    },
    overrides: { sender: FAST_SENDER },
  });
  const account = await service.service.app.accounts.create({
    id: uuidv7(),
    tenantId: TENANT,
    provider: "meta",
    displayName: "Tracing number",
    phoneNumberId: PHONE_NUMBER_ID,
    wabaId: `2${PHONE_NUMBER_ID}`,
    displayPhoneNumber: "+15550783882",
    businessId: "biz-trace",
    rateLimitPerSecond: 80,
    status: "active",
    credentials: { accessToken: TOKEN },
    metadata: {},
  });
  accountId = account.id;
});

afterAll(async () => {
  closeClientSessions();
  await service?.cleanup();
  await shutdownTracing();
  await simulator?.close();
  await nats?.cleanup();
  await receiver?.close();
});

/** Waits until the receiver holds a span matching `match`, and returns it. */
function spanWhere(match: (span: ReceivedSpan) => boolean, timeoutMs = 20_000): Promise<ReceivedSpan> {
  return eventually("a span the receiver got", async () => receiver.spans.find(match), { timeoutMs });
}

describe("traces", () => {
  it("when a signed webhook delivery is processed, then one trace holds the HTTP request, the inbox processing, the database work and the NATS publish, and the JetStream message's traceparent names it", async () => {
    const wamid = newWamid();
    const payload = metaEnvelope(`2${PHONE_NUMBER_ID}`, [
      messagesChange({
        phoneNumberId: PHONE_NUMBER_ID,
        displayPhoneNumber: "15550783882",
        contacts: [contact(CUSTOMER, "Ana")],
        messages: [textMessage({ from: CUSTOMER, id: wamid, body: "hola" })],
      }),
    ]);
    const answer = await deliver(`${service.service.url}/webhook`, payload, { appSecret: APP_SECRET });
    expect(answer.status).toBe(200);

    const edge = await spanWhere((s) => s.name === "POST /webhook" && s.kind === SPAN_KIND.server);
    expect(edge.attributes["http.route"]).toBe("/webhook");
    expect(edge.attributes["http.response.status_code"]).toBe(200);
    expect(edge.attributes["whatsapp.webhook.result"]).toBe("accepted");
    expect(edge.serviceName).toBe("whatsapp-service-test");

    // The event reaches the stream with the trace's context.
    const received = await eventually("the expected state", async () => {
      const events = await nats.collectEvents(STREAM, `whatsapp.${TENANT}.message.received`);
      return events[0];
    }, { timeoutMs: 20_000 });
    expect(received.traceparent).toMatch(new RegExp(`^00-${edge.traceId}-[0-9a-f]{16}-0[01]$`));

    // Everything in between is in the same trace.
    const processing = await spanWhere((s) => s.traceId === edge.traceId && s.name === "inbox.process");
    expect(processing.links.some((l) => l.spanId === edge.spanId)).toBe(true);
    const publish = await spanWhere((s) => s.traceId === edge.traceId && s.kind === SPAN_KIND.producer && s.name === "publish message.received");
    expect(publish.attributes["messaging.system"]).toBe("nats");
    expect(received.traceparent?.split("-")[2]).toBe(publish.spanId);
    const statements = receiver.trace(edge.traceId).filter((s) => s.attributes["db.system.name"] === "postgresql");
    // The inbox insert (under the request) and the processing's statements (under the worker's span).
    expect(statements.some((s) => String(s.attributes["db.query.text"]).includes("webhook_inbox"))).toBe(true);
    expect(statements.some((s) => s.parentSpanId === processing.spanId || isUnder(s, processing))).toBe(true);
    // Statement text only: the delivery's contents are parameters, never in a span.
    for (const s of statements) {
      expect(String(s.attributes["db.query.text"])).not.toContain(CUSTOMER);
      expect(String(s.attributes["db.query.text"])).not.toContain("hola");
    }
  });

  it("when SendMessage is called, then one trace reaches the sender's Graph API call", async () => {
    const messaging = clientFor(MessagingService, service.service.url, TENANT);
    const { message } = await messaging.sendMessage({ accountId, to: `+${CUSTOMER}`, content: { case: "text", value: { body: "¡Hola!" } } });
    const messageId = message!.id;
    await eventually("the expected state", async () => simulator.acceptedFor(messageId)[0], { timeoutMs: 20_000 });

    const rpc = await spanWhere((s) => s.name === "whatsapp.v1.MessagingService/SendMessage" && s.kind === SPAN_KIND.server);
    expect(rpc.attributes["rpc.system"]).toBe("connect_rpc");
    expect(rpc.attributes["rpc.service"]).toBe("whatsapp.v1.MessagingService");
    expect(rpc.attributes["rpc.method"]).toBe("SendMessage");
    expect(rpc.attributes["rpc.grpc.status_code"]).toBe(0);
    const graph = await spanWhere((s) => s.traceId === rpc.traceId && s.kind === SPAN_KIND.client && s.name === "POST messages");
    expect(graph.attributes["http.response.status_code"]).toBe(200);
    expect(graph.attributes["url.template"]).toBe("/{version}/{id}/messages");
    // No phone number or token anywhere in the trace's attributes.
    const flat = JSON.stringify(receiver.trace(rpc.traceId).map((s) => s.attributes));
    expect(flat).not.toContain(CUSTOMER);
    expect(flat).not.toContain(TOKEN);
  });

  it("when an RPC fails, then its span carries the final code the caller got", async () => {
    const accounts = clientFor(AccountService, service.service.url, TENANT);
    await expect(accounts.getAccount({ accountId: uuidv7() })).rejects.toThrow();
    const rpc = await spanWhere((s) => s.name === "whatsapp.v1.AccountService/GetAccount");
    expect(rpc.attributes["rpc.grpc.status_code"]).toBe(5);
    expect(rpc.attributes["rpc.connect_rpc.error_code"]).toBe("not_found");
  });
});

describe("logs", () => {
  it("when a request arrives with a traceparent, then the log lines written inside it carry its trace id", async () => {
    const traceId = randomBytes(16).toString("hex");
    const traceparent = `00-${traceId}-${randomBytes(8).toString("hex")}-01`;
    const transport = transportFor(service.service.url, "connect-json-h1", [
      tenantHeader(TENANT),
      (next) => (req) => {
        req.header.set("traceparent", traceparent);
        return next(req);
      },
    ]);
    const accounts = createClient(AccountService, transport);
    await accounts.getAccount({ accountId });
    const line = await eventually("the expected state", async () =>
      service
        .logText()
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.msg === "rpc" && l.rpc === "whatsapp.v1.AccountService/GetAccount" && l.trace_id === traceId),
    );
    expect(line.span_id).toMatch(/^[0-9a-f]{16}$/);
    const rpc = await spanWhere((s) => s.traceId === traceId && s.name === "whatsapp.v1.AccountService/GetAccount");
    expect(line.span_id).toBe(rpc.spanId);
  });
});

/** True when `span` descends from `ancestor` among the spans received. */
function isUnder(span: ReceivedSpan, ancestor: ReceivedSpan): boolean {
  const byId = new Map(receiver.trace(span.traceId).map((s) => [s.spanId, s]));
  let current: ReceivedSpan | undefined = span;
  for (let depth = 0; current && depth < 20; depth++) {
    if (current.parentSpanId === ancestor.spanId) return true;
    current = byId.get(current.parentSpanId);
  }
  return false;
}
