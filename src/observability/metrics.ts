/**
 * The service's Prometheus metrics (prom-client; docs/adr/0012-observability.md
 * says why). One registry per running service — not prom-client's global one —
 * so several services in one process (the tests) keep separate counts.
 *
 * Labels are bounded sets only: account ids (as many as accounts), RPC
 * service/method names and codes, fixed outcome words, Meta error codes.
 * Never a phone number, a message id, a tenant-supplied string or a path.
 *
 * Gauges of backlogs and queue depths are read from the database when
 * scraped (`addCollector`), with cheap bounded queries, so they are right for
 * the whole deployment whichever replica answers.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** Seconds, from 1 ms to 30 s: RPCs, webhook requests, Graph API calls, deliveries. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class ServiceMetrics {
  readonly registry = new Registry();

  // RPC (Connect, gRPC, gRPC-Web and REST alike: they all pass the interceptor).
  readonly rpcRequests = new Counter({
    name: "whatsapp_rpc_requests_total",
    help: "RPCs handled, by service, method and final code (streams counted when they end).",
    labelNames: ["rpc_service", "rpc_method", "code"] as const,
    registers: [this.registry],
  });
  readonly rpcDuration = new Histogram({
    name: "whatsapp_rpc_duration_seconds",
    help: "RPC duration from the request to the final code (streams: to their end).",
    labelNames: ["rpc_service", "rpc_method", "code"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly watchEventsStreams = new Gauge({
    name: "whatsapp_watch_events_streams_open",
    help: "WatchEvents streams open on this replica.",
    registers: [this.registry],
  });

  // Webhook edge.
  readonly webhookRequests = new Counter({
    name: "whatsapp_webhook_requests_total",
    help: "Webhook requests by result (accepted, malformed, signature_mismatch, unavailable, …).",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  readonly webhookDuration = new Histogram({
    name: "whatsapp_webhook_request_duration_seconds",
    help: "Webhook request duration until answered (accepted ones: until the inbox row is committed).",
    labelNames: ["result"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  // Inbox processing.
  readonly deliveryProcessing = new Histogram({
    name: "whatsapp_inbox_delivery_processing_seconds",
    help: "Time to apply one webhook delivery (its share of the batch transaction), by result.",
    labelNames: ["result"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly deliveryLatency = new Histogram({
    name: "whatsapp_inbox_delivery_latency_seconds",
    help: "From a webhook delivery's arrival to its processing committed.",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly inboxBacklog = new Gauge({
    name: "whatsapp_inbox_backlog",
    help: "Webhook deliveries stored and not yet processed (scraped from the database).",
    registers: [this.registry],
  });
  readonly inboxLag = new Gauge({
    name: "whatsapp_inbox_lag_seconds",
    help: "Age of the oldest unprocessed webhook delivery; 0 when none waits (scraped from the database).",
    registers: [this.registry],
  });

  // Messages (counted after the transaction that records them commits).
  readonly messagesSent = new Counter({
    name: "whatsapp_messages_sent_total",
    help: "Outbound messages accepted by the provider, by account.",
    labelNames: ["account_id"] as const,
    registers: [this.registry],
  });
  readonly messagesDelivered = new Counter({
    name: "whatsapp_messages_delivered_total",
    help: "Outbound messages reported delivered, by account.",
    labelNames: ["account_id"] as const,
    registers: [this.registry],
  });
  readonly messagesRead = new Counter({
    name: "whatsapp_messages_read_total",
    help: "Outbound messages reported read, by account.",
    labelNames: ["account_id"] as const,
    registers: [this.registry],
  });
  readonly messagesFailed = new Counter({
    name: "whatsapp_messages_failed_total",
    help: "Outbound messages failed for good (refused by the provider or reported failed), by account.",
    labelNames: ["account_id"] as const,
    registers: [this.registry],
  });
  readonly messagesReceived = new Counter({
    name: "whatsapp_messages_received_total",
    help: "Inbound messages stored, by account.",
    labelNames: ["account_id"] as const,
    registers: [this.registry],
  });

  // Sending.
  readonly sendQueueDepth = new Gauge({
    name: "whatsapp_send_queue_depth",
    help: "Outbound messages waiting or in flight, by priority and state (scraped from the database).",
    labelNames: ["priority", "state"] as const,
    registers: [this.registry],
  });
  readonly pacingWaits = new Counter({
    name: "whatsapp_send_pacing_waits_total",
    help: "Times a send had to wait for its account's pacing (rate limit or pair spacing).",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly circuitState = new Gauge({
    name: "whatsapp_send_circuit_state",
    help: "Per-account send circuit: 0 closed, 1 half-open, 2 open.",
    labelNames: ["account_id"] as const,
    registers: [this.registry],
  });

  // Graph API.
  readonly graphDuration = new Histogram({
    name: "whatsapp_graph_api_request_duration_seconds",
    help: "Graph API call duration by operation and outcome (ok, error, no_answer).",
    labelNames: ["operation", "outcome"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly graphErrors = new Counter({
    name: "whatsapp_graph_api_errors_total",
    help: "Graph API calls that failed, by operation and Meta error code (0: no answer).",
    labelNames: ["operation", "code"] as const,
    registers: [this.registry],
  });

  // Events.
  readonly outboxBacklog = new Gauge({
    name: "whatsapp_outbox_backlog",
    help: "Events committed and not yet published to JetStream (scraped from the database).",
    registers: [this.registry],
  });
  readonly relayLag = new Gauge({
    name: "whatsapp_outbox_relay_lag_seconds",
    help: "Age of the oldest unpublished event; 0 when none waits (scraped from the database).",
    registers: [this.registry],
  });
  readonly jetstreamPublishFailures = new Counter({
    name: "whatsapp_jetstream_publish_failures_total",
    help: "JetStream publishes that failed (the events stay in the outbox and are retried).",
    registers: [this.registry],
  });
  readonly eventsPublished = new Counter({
    name: "whatsapp_jetstream_events_published_total",
    help: "Events published to JetStream and acknowledged.",
    registers: [this.registry],
  });

  // OTP.
  readonly otpSent = new Counter({
    name: "whatsapp_otp_sent_total",
    help: "OTP codes sent, by account.",
    labelNames: ["account_id"] as const,
    registers: [this.registry],
  });
  readonly otpVerified = new Counter({
    name: "whatsapp_otp_verified_total",
    help: "OTP codes verified, by account.",
    labelNames: ["account_id"] as const,
    registers: [this.registry],
  });
  readonly otpFailed = new Counter({
    name: "whatsapp_otp_failed_total",
    help: "OTP verifications that failed, by outcome (wrong_code, expired, too_many_attempts, not_found, already_used).",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    // Process metrics: CPU, memory, event-loop lag, GC, handles (prom-client's standard set).
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Adds work done at each scrape (gauges read from the database). A failing
   * collector is logged by the caller's `onError` and leaves its gauges as
   * they were, so one slow dependency does not fail the whole scrape.
   */
  addCollector(collect: () => Promise<void>, onError: (error: unknown) => void): void {
    this.#collectors.push(async () => {
      try {
        await collect();
      } catch (error) {
        onError(error);
      }
    });
  }

  readonly #collectors: (() => Promise<void>)[] = [];

  /** The Prometheus text exposition (what `/metrics` answers). */
  async render(): Promise<{ contentType: string; body: string }> {
    await Promise.all(this.#collectors.map((collect) => collect()));
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
