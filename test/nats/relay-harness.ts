/**
 * Builds an outbox relay the way the service does (its own database handle,
 * NATS link and leader lock) so tests can run one, two, or stop one, and read
 * what it logged.
 */
import { randomUUID } from "node:crypto";

import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { sql } from "drizzle-orm";

import { MessageReceivedEventSchema } from "../../gen/whatsapp/v1/events_pb.js";
import { MessageType } from "../../gen/whatsapp/v1/message_pb.js";
import { openNatsConnection, type NatsLink } from "../../src/adapters/nats/connection.js";
import { createOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from "../../src/adapters/nats/outbox-relay.js";
import type { StreamSettings } from "../../src/adapters/nats/stream.js";
import { openDatabase, queryRows, type DatabaseHandle } from "../../src/adapters/postgres/db/database.js";
import { LeaderRole, postgresLeaderLock, type LeaderLock } from "../../src/adapters/postgres/db/leader-lock.js";
import { appendToOutbox, type OutboxEvent } from "../../src/adapters/postgres/outbox/outbox.js";
import { Wakeup } from "../../src/adapters/shared/wakeup.js";

export interface LogRecord {
  level: "debug" | "info" | "warn" | "error";
  msg: string;
  [key: string]: unknown;
}

/** A logger (the pino subset the NATS adapters use) that keeps every record. */
export class RecordingLogger {
  readonly records: LogRecord[] = [];
  debug = (obj: Record<string, unknown>, msg: string) => this.#add("debug", obj, msg);
  info = (obj: Record<string, unknown>, msg: string) => this.#add("info", obj, msg);
  warn = (obj: Record<string, unknown>, msg: string) => this.#add("warn", obj, msg);
  error = (obj: Record<string, unknown>, msg: string) => this.#add("error", obj, msg);

  count(level: LogRecord["level"], msgIncludes: string): number {
    return this.records.filter((r) => r.level === level && r.msg.includes(msgIncludes)).length;
  }

  #add(level: LogRecord["level"], obj: Record<string, unknown>, msg: string): void {
    this.records.push({ ...obj, level, msg });
  }
}

export function testStream(name: string): StreamSettings {
  return { name, subjects: ["whatsapp.>"], maxAgeSeconds: 3600, replicas: 1, duplicateWindowSeconds: 120 };
}

export interface RunningRelay {
  db: DatabaseHandle;
  nats: NatsLink;
  lock: LeaderLock;
  relay: OutboxRelay;
  wakeup: Wakeup;
  logger: RecordingLogger;
  /** Appends the events in one committed transaction, then wakes the relay (as writers do). */
  append(events: readonly OutboxEvent[]): Promise<void>;
  stop(): Promise<void>;
}

/** Quick retries so outages in tests end in well under a second once NATS is back. */
const FAST = { backoff: { initialMs: 20, maxMs: 300 }, publishTimeoutMs: 1_000, followerRetryMs: 100, leaseCheckMs: 100 } as const;

export async function startRelay(options: {
  databaseUrl: string;
  natsUrl: string;
  stream: StreamSettings;
  relay?: Partial<Omit<OutboxRelayOptions, "db" | "nats" | "stream" | "leaderLock" | "wakeup" | "logger">>;
}): Promise<RunningRelay> {
  const logger = new RecordingLogger();
  const db = await openDatabase({ databaseUrl: options.databaseUrl, dataDir: "unused" });
  const nats = openNatsConnection({ servers: options.natsUrl, logger, backoff: { initialMs: 20, maxMs: 200 }, name: "relay-test" });
  const lock = postgresLeaderLock({ databaseUrl: options.databaseUrl, role: LeaderRole.outboxRelay });
  const wakeup = new Wakeup();
  const relay = createOutboxRelay({ db: db.db, nats, stream: options.stream, leaderLock: lock, wakeup, logger, ...FAST, ...options.relay });
  relay.start();
  let stopped: Promise<void> | undefined;
  return {
    db,
    nats,
    lock,
    relay,
    wakeup,
    logger,
    async append(events) {
      await db.db.transaction((tx) => appendToOutbox(tx, events));
      wakeup.notify();
    },
    stop: () =>
      (stopped ??= (async () => {
        await relay.stop();
        await lock.close();
        await nats.close();
        await db.close();
      })()),
  };
}

/** A `message.received` event with a real protobuf payload. */
export function receivedEvent(tenantId: string, n: number, traceparent?: string): OutboxEvent {
  const id = randomUUID();
  const event = create(MessageReceivedEventSchema, {
    eventId: id,
    tenantId,
    accountId: randomUUID(),
    occurredAt: timestampFromDate(new Date()),
    conversationId: randomUUID(),
    messageId: randomUUID(),
    wamid: `wamid.test-${n}`,
    from: "+5215512345678",
    to: "+5215587654321",
    content: `hello ${n}`,
    type: MessageType.TEXT,
  });
  return { id, tenantId, name: "message.received", payload: toBinary(MessageReceivedEventSchema, event), ...(traceparent ? { traceparent } : {}) };
}

/** How many of the tenant's outbox rows are not marked published yet. */
export async function unpublishedCount(db: DatabaseHandle, tenantId: string): Promise<number> {
  const [row] = await queryRows<{ n: string }>(
    db.db,
    sql`select count(*)::text as n from control.outbox where tenant_id = ${tenantId} and published_at is null`,
  );
  return Number(row?.n ?? 0);
}

