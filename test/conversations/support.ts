/**
 * What the conversation tests share: the real service (inbox worker on;
 * sender off so queued sends stay queued and nothing calls Meta) on a fresh
 * database, optionally with a private NATS and the relay, a clock the test
 * can move, signed Meta webhooks carrying text messages, and direct reads of
 * the tenant's rows.
 */
import { randomBytes } from "node:crypto";

import type { Client } from "@connectrpc/connect";
import type postgres from "postgres";

import { AccountService, Provider, type Account } from "../../gen/whatsapp/v1/account_pb.js";
import { ConversationService } from "../../gen/whatsapp/v1/conversation_pb.js";
import { MessagingService } from "../../gen/whatsapp/v1/messaging_pb.js";
import { tenantSchemaName } from "../../src/adapters/postgres/index.js";
import { contact, deliver, messagesChange, metaEnvelope, newWamid, textMessage, unixSeconds, type Json } from "../support/meta-simulator.js";
import { startNatsServer, type NatsTestServer } from "../support/nats-server.js";
import { clientFor, uniqueTenant, type TestService } from "../support/service.js";
import { startServiceHarness } from "../kit/service-harness.js";
import { eventually } from "../kit/eventually.js";


export const APP_SECRET = "conversations-test-app-secret";
export const TEMPLATE = { name: "call_follow_up", language: "es" };
/** The stored components of the test template (the template work's TemplateComponents JSON): a body without parameters. */
const TEMPLATE_CONTENT = { parameterFormat: "POSITIONAL", body: { text: "Hola, gracias por tu llamada", examples: { positional: [], named: {} } } };

export interface Harness {
  svc: TestService;
  sql: postgres.Sql;
  nats: NatsTestServer | undefined;
  stream: string;
  /** Moves the service's clock (app.now) forward. */
  advance(ms: number): void;
  now(): Date;
  cleanup(): Promise<void>;
}

export async function startHarness(options: { nats?: boolean; env?: Record<string, string> } = {}): Promise<Harness> {
  const nats = options.nats ? await startNatsServer() : undefined;
  const stream = `CONV_${randomBytes(3).toString("hex")}`;
  let offsetMs = 0;
  const now = () => new Date(Date.now() + offsetMs);
  const { svc, sql, cleanup } = await startServiceHarness({
    sqlConnections: 4,
    env: {
      META_APP_SECRET: APP_SECRET,
      WORKERS: nats ? "inbox,relay" : "inbox",
      LOG_LEVEL: "info",
      ...(nats ? { NATS_URL: nats.url, NATS_STREAM: stream, NATS_STREAM_MAX_AGE_SECONDS: "3600" } : {}),
      ...options.env,
    },
    overrides: { now },
  });
  return {
    svc,
    sql,
    nats,
    stream,
    advance: (ms) => {
      offsetMs += ms;
    },
    now,
    async cleanup() {
      await cleanup();
      await nats?.cleanup();
    },
  };
}

export interface Tenant {
  id: string;
  schema: string;
  accounts: Client<typeof AccountService>;
  messaging: Client<typeof MessagingService>;
  conversations: Client<typeof ConversationService>;
}

export function tenantClients(harness: Harness, label: string): Tenant {
  const id = uniqueTenant(label);
  const url = harness.svc.service.url;
  return {
    id,
    schema: tenantSchemaName(id),
    accounts: clientFor(AccountService, url, id),
    messaging: clientFor(MessagingService, url, id),
    conversations: clientFor(ConversationService, url, id, "connect-json-h1"),
  };
}

/** A Meta account (webhooks route by phone number id); the sender is off, so nothing calls Meta. */
export async function createAccount(tenant: Tenant): Promise<Account> {
  const phoneNumberId = `8${randomBytes(6).readUIntBE(0, 6)}`;
  const { account } = await tenant.accounts.createAccount({
    account: {
      provider: Provider.META,
      displayName: "Conversations test",
      phoneNumberId,
      wabaId: `9${randomBytes(5).readUIntBE(0, 5)}`,
      displayPhoneNumber: "+14155550100",
      credentials: { accessToken: "test-token" },
    },
  });
  return account!;
}

/** An APPROVED template row, as the template work will have it (StartConversation's first message must be one). */
export async function approveTemplate(harness: Harness, tenant: Tenant, account: Account, category = "UTILITY", name = TEMPLATE.name): Promise<void> {
  await harness.sql.unsafe(
    `insert into "${tenant.schema}".templates (id, account_id, waba_id, name, language, category, components, status, approved_version, approved_components)
     values (gen_random_uuid(), $1, $2, $3, $4, $5, $6::jsonb, 'APPROVED', 1, $6::jsonb)`,
    [account.id, account.wabaId, name, TEMPLATE.language, category, JSON.stringify(TEMPLATE_CONTENT)],
  );
}

/** A WhatsApp id (digits) no other test uses. */
export function newWaId(): string {
  return `1415${(2_000_000 + Math.floor(Math.random() * 7_999_999)).toString()}`;
}

export interface Inbound {
  from: string;
  body: string;
  /** Meta's timestamp (seconds precision). Default: the harness clock. */
  at?: Date;
  wamid?: string;
}

/**
 * Delivers the messages in ONE signed webhook (Meta batches like this) and
 * waits until every one is stored. Returns their wamids in order.
 */
export async function receive(harness: Harness, tenant: Tenant, account: Account, inbound: readonly Inbound[]): Promise<string[]> {
  const wamids = inbound.map((m) => m.wamid ?? newWamid());
  const senders = [...new Set(inbound.map((m) => m.from))];
  const payload = metaEnvelope(account.wabaId, [
    messagesChange({
      phoneNumberId: account.phoneNumberId,
      displayPhoneNumber: account.displayPhoneNumber.replace("+", ""),
      contacts: senders.map((waId) => contact(waId, `User ${waId.slice(-4)}`)),
      messages: inbound.map((m, i) => textMessage({ from: m.from, body: m.body, id: wamids[i]!, timestamp: unixSeconds(m.at ?? harness.now()) }) as Json),
    }),
  ]);
  const result = await deliver(`${harness.svc.service.url}/webhook`, payload, { appSecret: APP_SECRET });
  if (result.status !== 200) throw new Error(`webhook answered ${result.status}: ${result.text}`);
  await eventually("the inbound messages to be stored", async () => {
    const rows = await harness.sql
      .unsafe<{ n: number }[]>(`select count(*)::int as n from "${tenant.schema}".messages where wamid = any($1::text[])`, [wamids])
      .catch(() => [{ n: 0 }]);
    return rows[0]!.n === wamids.length ? true : undefined;
  }, { timeoutMs: 30_000 });
  return wamids;
}


export async function messageIdOf(harness: Harness, tenant: Tenant, wamid: string): Promise<string> {
  const [row] = await harness.sql.unsafe<{ id: string }[]>(`select id from "${tenant.schema}".messages where wamid = $1`, [wamid]);
  if (!row) throw new Error(`no message ${wamid}`);
  return row.id;
}

/** Outbox event types of the tenant, in commit order. */
export async function outboxEvents(harness: Harness, tenant: Tenant): Promise<{ event_type: string; id: string }[]> {
  return harness.sql<{ event_type: string; id: string }[]>`select event_type, id from control.outbox where tenant_id = ${tenant.id} order by seq`;
}
