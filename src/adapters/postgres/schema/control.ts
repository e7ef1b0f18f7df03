/**
 * The shared control schema: what must be found before a tenant is known
 * (tenants, accounts routed by phone number id, the webhook inbox) and the
 * process-wide queues (jobs, event outbox).
 *
 * Tables are declared through `pgSchema("control")`, so the query builder
 * always qualifies them (`"control"."accounts"`) and they stay reachable
 * whatever the transaction's search_path is.
 *
 * This file imports only drizzle-orm: drizzle-kit loads it on its own to
 * generate `migrations/control/`.
 */
import { sql } from "drizzle-orm";
import {
  bigserial,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  pgSchema,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

export const control = pgSchema("control");

/** `bytea` as a Buffer (postgres.js yields Buffers, PGlite Uint8Arrays). */
export const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array | string }>({
  dataType() {
    return "bytea";
  },
  toDriver(value) {
    return value;
  },
  fromDriver(value) {
    if (typeof value === "string") return Buffer.from(value.startsWith("\\x") ? value.slice(2) : value, "hex");
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  },
});

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/**
 * `xid8`, a 64-bit transaction id that never wraps, as its decimal text
 * (JavaScript numbers cannot hold every value; compare with BigInt).
 */
export const xid8 = customType<{ data: string; driverData: string | number | bigint }>({
  dataType() {
    return "xid8";
  },
  toDriver(value) {
    return value;
  },
  fromDriver(value) {
    return String(value);
  },
});

export const tenants = control.table("tenants", {
  /** The tenant id as the API knows it (validated at the edge). */
  id: text("id").primaryKey(),
  /** Name of the tenant's own schema (see tenantSchemaName). */
  schemaName: text("schema_name").notNull().unique("tenants_schema_name_key"),
  createdAt: timestamptz("created_at").notNull().defaultNow(),
});

export const accounts = control.table(
  "accounts",
  {
    id: uuid("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    provider: text("provider").notNull(),
    displayName: text("display_name").notNull().default(""),
    phoneNumberId: text("phone_number_id").notNull(),
    wabaId: text("waba_id").notNull().default(""),
    displayPhoneNumber: text("display_phone_number").notNull().default(""),
    businessId: text("business_id").notNull().default(""),
    rateLimitPerSecond: integer("rate_limit_per_second").notNull(),
    status: text("status").notNull(),
    /** Credential name → SecretBox-sealed value. Never plaintext. */
    credentials: jsonb("credentials").$type<Record<string, string>>().notNull().default({}),
    metadata: jsonb("metadata").$type<Record<string, string>>().notNull().default({}),
    /** The caller's CreateAccount request_id: a retried create returns the first account. */
    requestId: text("request_id"),
    createTime: timestamptz("create_time").notNull().defaultNow(),
    updateTime: timestamptz("update_time").notNull().defaultNow(),
    deleteTime: timestamptz("delete_time"),
  },
  (t) => [
    uniqueIndex("accounts_tenant_request_id_key")
      .on(t.tenantId, t.requestId)
      .where(sql`${t.requestId} is not null`),
    // One live account per provider number: inbound webhooks route by it.
    uniqueIndex("accounts_provider_phone_number_id_key")
      .on(t.provider, t.phoneNumberId)
      .where(sql`${t.deleteTime} is null`),
    index("accounts_tenant_create_time_id_idx").on(t.tenantId, t.createTime, t.id),
  ],
);

/** Webhook deliveries, written before the 200 and processed afterwards. */
export const webhookInbox = control.table(
  "webhook_inbox",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    receivedAt: timestamptz("received_at").notNull().defaultNow(),
    /** Which edge received it: `meta`, `twilio`. */
    provider: text("provider").notNull(),
    /** The request path, e.g. `/webhook` or `/webhook/<account id>`. */
    path: text("path").notNull(),
    /** Account id from the path, or phone number id from the payload, when known. */
    accountHint: text("account_hint"),
    headers: jsonb("headers").$type<Record<string, string>>().notNull().default({}),
    body: bytea("body").notNull(),
    signatureValid: boolean("signature_valid").notNull(),
    /** `pending`, `processed`, `failed`, `unroutable`, `malformed`. */
    status: text("status").notNull().default("pending"),
    /** Processing attempts started (counted when claimed, so a crash counts too). */
    attempts: integer("attempts").notNull().default(0),
    /** The inbox worker holding the lease, while one does. */
    lockedBy: text("locked_by"),
    /**
     * A pending row is claimable when this is null or past: the lease of the
     * worker that claimed it, or the earliest retry after a failed attempt.
     */
    lockedUntil: timestamptz("locked_until"),
    processedAt: timestamptz("processed_at"),
    error: text("error"),
    /** W3C `traceparent` of the webhook request that stored it: the inbox worker's span continues (and links to) that trace. */
    traceContext: text("trace_context"),
  },
  (t) => [index("webhook_inbox_status_received_at_idx").on(t.status, t.receivedAt)],
);

/**
 * Parts of webhook deliveries that no live account claims (a phone number id
 * or WABA id we do not serve): kept for operators, never retried — a retry
 * would not find an account either.
 */
export const webhookUnroutable = control.table(
  "webhook_unroutable",
  {
    id: uuid("id").primaryKey(),
    /** The delivery it came in (control.webhook_inbox.id). */
    inboxId: uuid("inbox_id")
      .notNull()
      .references(() => webhookInbox.id),
    provider: text("provider").notNull(),
    /** Meta's webhook field, e.g. `messages`. */
    field: text("field").notNull(),
    phoneNumberId: text("phone_number_id").notNull().default(""),
    wabaId: text("waba_id").notNull().default(""),
    /** Messages and statuses it carried, for a quick look. */
    messageCount: integer("message_count").notNull().default(0),
    statusCount: integer("status_count").notNull().default(0),
    /** The change's `value` verbatim. */
    payload: jsonb("payload").$type<unknown>().notNull(),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
  },
  (t) => [
    index("webhook_unroutable_created_at_idx").on(t.createdAt),
    index("webhook_unroutable_phone_number_id_idx").on(t.phoneNumberId),
  ],
);

/** Background work (sends, retries, scheduled jobs), claimed with FOR UPDATE SKIP LOCKED. */
export const jobs = control.table(
  "jobs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: text("tenant_id").references(() => tenants.id),
    kind: text("kind").notNull(),
    payload: jsonb("payload").$type<unknown>().notNull().default({}),
    /** Higher runs first. */
    priority: integer("priority").notNull().default(0),
    runAt: timestamptz("run_at").notNull().defaultNow(),
    attempts: integer("attempts").notNull().default(0),
    lockedBy: text("locked_by"),
    lockedUntil: timestamptz("locked_until"),
    lastError: text("last_error"),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
    /** W3C `traceparent` of the request that queued it (SendMessage…): the sender's work joins that trace. */
    traceContext: text("trace_context"),
  },
  (t) => [
    index("jobs_claim_idx").on(t.runAt, t.priority),
    // The sender claims one account's sends at a time, highest priority first (send-queue.ts).
    index("jobs_send_account_claim_idx")
      .on(sql`(${t.payload}->>'accountId')`, t.priority.desc(), t.runAt, t.id)
      .where(sql`${t.kind} = 'send_message'`),
  ],
);

/**
 * Per account: the send pacing (a token bucket kept as the instant its next
 * token falls due, see domain/token-bucket.ts) and the circuit breaker
 * (domain/circuit-breaker.ts). One row per account, shared by every
 * replica: a claim locks the row, takes slots and writes it back, so
 * replicas split the account's rate instead of each using all of it.
 */
export const sendPacing = control.table("send_pacing", {
  accountId: uuid("account_id")
    .primaryKey()
    .references(() => accounts.id),
  /** When the account's next send slot falls due (microsecond precision matters: slots are ~1 ms apart at 1,000/s). */
  nextSlotAt: timestamptz("next_slot_at").notNull().defaultNow(),
  /** `closed`, `open`, `half_open`. */
  circuitState: text("circuit_state").notNull().default("closed"),
  /** Provider faults in a row (5xx, network, timeouts). */
  consecutiveFailures: integer("consecutive_failures").notNull().default(0),
  /** open: no sends before this; half_open: the probe's deadline. */
  circuitOpenUntil: timestamptz("circuit_open_until"),
  updateTime: timestamptz("update_time").notNull().defaultNow(),
});

/**
 * Events written with the state change they report; a relay publishes them
 * to JetStream, and WatchEvents streams them (see postgres/event-feed.ts).
 */
export const outbox = control.table(
  "outbox",
  {
    /** The event id, used as `Nats-Msg-Id`. */
    id: uuid("id").primaryKey(),
    /** Insertion order; the relay publishes in this order. */
    seq: bigserial("seq", { mode: "number" }).notNull().unique("outbox_seq_key"),
    /**
     * The writing transaction's id. Unlike `seq` (taken at INSERT, so a lower
     * seq can commit after a higher one), `(tx_id, seq)` can be read as a
     * commit-safe order: below `pg_snapshot_xmin(pg_current_snapshot())` no
     * transaction is still running, so no row can appear there any more.
     */
    txId: xid8("tx_id").notNull().default(sql`pg_current_xact_id()`),
    tenantId: text("tenant_id").notNull(),
    subject: text("subject").notNull(),
    eventType: text("event_type").notNull(),
    payload: bytea("payload").notNull(),
    headers: jsonb("headers").$type<Record<string, string>>().notNull().default({}),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
    publishedAt: timestamptz("published_at"),
  },
  (t) => [
    index("outbox_unpublished_idx").on(t.seq).where(sql`${t.publishedAt} is null`),
    // WatchEvents: one tenant's events in commit-safe order, from a cursor.
    index("outbox_tenant_tx_seq_idx").on(t.tenantId, t.txId, t.seq),
  ],
);
