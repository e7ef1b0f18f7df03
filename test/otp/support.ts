/**
 * What the OTP tests share: the real service on a fresh database with an
 * injected clock the tests move forward, the inbox worker on (typed-back
 * codes arrive as signed webhooks) and the sender off unless a Graph API
 * simulator is given, clients per tenant, Meta accounts with an APPROVED
 * AUTHENTICATION template, and direct reads of the tenant's rows and of
 * control.jobs / control.outbox.
 */
import { createHmac, randomBytes } from "node:crypto";

import { fromBinary } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import type postgres from "postgres";
import { v7 as uuidv7 } from "uuid";

import { AccountService, Provider, type Account } from "../../gen/whatsapp/v1/account_pb.js";
import { OtpVerifiedEventSchema, type OtpVerifiedEvent } from "../../gen/whatsapp/v1/events_pb.js";
import { OtpService } from "../../gen/whatsapp/v1/otp_pb.js";
import { tenantSchemaName } from "../../src/adapters/postgres/index.js";
import { FAST_SENDER } from "../outbound/support/outbound-harness.js";
import type { GraphSimulator } from "../support/graph-simulator.js";
import { clientFor, uniqueTenant, type TestService } from "../support/service.js";
import { startServiceHarness } from "../kit/service-harness.js";

export { newRecipient, newWamid } from "../messaging/support.js";
import { APP_SECRET, newWamid } from "../messaging/support.js";
import { eventually } from "../kit/eventually.js";

export const AUTH_TEMPLATE = "verify_code";

/** The service's clock: real time plus what the test has skipped ahead. */
export class TestClock {
  #offsetMs = 0;
  readonly now = (): Date => new Date(Date.now() + this.#offsetMs);
  advance(ms: number): void {
    this.#offsetMs += ms;
  }
}

export interface OtpHarness {
  svc: TestService;
  sql: postgres.Sql;
  clock: TestClock;
  cleanup(): Promise<void>;
}

export async function startOtpHarness(options: { env?: Record<string, string>; simulator?: GraphSimulator } = {}): Promise<OtpHarness> {
  const clock = new TestClock();
  const { svc, sql, cleanup } = await startServiceHarness({
    env: {
      META_APP_SECRET: APP_SECRET,
      WORKERS: options.simulator ? "inbox,sender" : "inbox",
      ...(options.simulator ? { WHATSAPP_GRAPH_URL: options.simulator.url } : {}),
      ...options.env,
    },
    overrides: { now: clock.now, providers: { graphTimeoutMs: 2_000 }, sender: FAST_SENDER },
    sqlConnections: 6,
  });
  return { svc, sql, clock, cleanup };
}

export interface OtpTenant {
  id: string;
  schema: string;
  accounts: Client<typeof AccountService>;
  otp: Client<typeof OtpService>;
}

export function otpTenant(harness: OtpHarness, label: string): OtpTenant {
  const id = uniqueTenant(label);
  return {
    id,
    schema: tenantSchemaName(id),
    accounts: clientFor(AccountService, harness.svc.service.url, id),
    otp: clientFor(OtpService, harness.svc.service.url, id),
  };
}

/** A Meta account whose WABA has `verify_code` (en_US) APPROVED as an AUTHENTICATION template. */
export async function createOtpAccount(harness: OtpHarness, tenant: OtpTenant, token = "test-token"): Promise<Account> {
  const phoneNumberId = `8${randomBytes(6).readUIntBE(0, 6)}`;
  const wabaId = `waba-${randomBytes(4).toString("hex")}`;
  const { account } = await tenant.accounts.createAccount({
    account: { provider: Provider.META, displayName: "OTP test", phoneNumberId, wabaId, displayPhoneNumber: "+14155550100", credentials: { accessToken: token } },
  });
  await approveAuthTemplate(harness, tenant, account!, AUTH_TEMPLATE, "en_US");
  return account!;
}

/**
 * An APPROVED AUTHENTICATION template row (copy-code button), as the
 * template work stores one: the send path checks sends against it.
 */
export async function approveAuthTemplate(harness: OtpHarness, tenant: OtpTenant, account: Account, name: string, language: string): Promise<void> {
  const components = {
    body: { text: "", examples: { positional: [], named: {} }, addSecurityRecommendation: true },
    footer: { text: "", codeExpirationMinutes: 10 },
    buttons: [{ kind: "otp", otpType: "COPY_CODE", text: "Copy code", supportedApps: [] }],
  };
  await harness.sql.unsafe(
    `insert into "${tenant.schema}".templates
       (id, account_id, waba_id, name, language, category, components, status, version, approved_version, approved_components, meta_template_id)
     values ($1, $2, $3, $4, $5, 'AUTHENTICATION', $6, 'APPROVED', 1, 1, $6, $7)`,
    [uuidv7(), account.id, account.wabaId, name, language, harness.sql.json(components), String(Date.now())],
  );
}

export interface OtpRow {
  id: string;
  account_id: string;
  contact_id: string | null;
  wa_id: string;
  message_id: string | null;
  code_hash: string;
  code_salt: string;
  code_length: number;
  state: string;
  attempts: number;
  max_attempts: number;
  request_id: string | null;
  template_name: string;
  template_language: string;
  metadata: Record<string, string>;
  verify_time: Date | null;
  verified_via: string | null;
}

export async function otpRow(harness: OtpHarness, tenant: OtpTenant, id: string): Promise<OtpRow | undefined> {
  const rows = await harness.sql.unsafe<OtpRow[]>(`select * from "${tenant.schema}".otps where id = $1`, [id]);
  return rows[0];
}

export async function messageContent(harness: OtpHarness, tenant: OtpTenant, id: string): Promise<{ content: unknown; priority: string; type: string; status: string }> {
  const rows = await harness.sql.unsafe<{ content: unknown; priority: string; type: string; status: string }[]>(
    `select content, priority, type, status from "${tenant.schema}".messages where id = $1`,
    [id],
  );
  return rows[0]!;
}

export async function otpEvents(harness: OtpHarness, tenant: OtpTenant): Promise<OtpVerifiedEvent[]> {
  const rows = await harness.sql<{ payload: Buffer }[]>`select payload from control.outbox where tenant_id = ${tenant.id} and event_type = 'otp.verified' order by seq`;
  return rows.map((r) => fromBinary(OtpVerifiedEventSchema, new Uint8Array(r.payload)));
}

/**
 * Everything the service stored, as text: every row of every tenant schema,
 * every job, and every outbox row (payload bytes as latin1, so the digits of
 * a protobuf string show as themselves).
 */
export async function everythingStored(harness: OtpHarness): Promise<string> {
  const tables = await harness.sql<{ schema: string; table: string }[]>`
    select table_schema as schema, table_name as table from information_schema.tables where table_schema like 't\_%'`;
  const parts: string[] = [];
  for (const { schema, table } of tables) {
    const rows = await harness.sql.unsafe<{ row: string }[]>(`select row_to_json(t)::text as row from "${schema}"."${table}" t`);
    parts.push(...rows.map((r) => r.row));
  }
  const jobs = await harness.sql<{ row: string }[]>`select row_to_json(j)::text as row from control.jobs j`;
  parts.push(...jobs.map((r) => r.row));
  const outbox = await harness.sql<{ payload: Buffer; headers: unknown }[]>`select payload, headers from control.outbox`;
  parts.push(...outbox.map((r) => Buffer.from(r.payload).toString("latin1") + JSON.stringify(r.headers)));
  return parts.join("\n");
}

/**
 * The user writes `body` to the account in WhatsApp (a signed Meta webhook,
 * processed by the service's inbox worker). Resolves with the stored
 * inbound message once it is in the tenant's schema.
 */
export async function userTypes(harness: OtpHarness, tenant: OtpTenant, account: Account, waId: string, body: string): Promise<{ id: string; wamid: string }> {
  const wamid = newWamid();
  const raw = JSON.stringify({
    object: "whatsapp_business_account",
    entry: [
      {
        id: account.wabaId,
        changes: [
          {
            field: "messages",
            value: {
              messaging_product: "whatsapp",
              metadata: { display_phone_number: account.displayPhoneNumber.replace("+", ""), phone_number_id: account.phoneNumberId },
              contacts: [{ profile: { name: "Ana" }, wa_id: waId }],
              messages: [{ from: waId, id: wamid, timestamp: String(Math.floor(Date.now() / 1000)), text: { body }, type: "text" }],
            },
          },
        ],
      },
    ],
  });
  const response = await fetch(`${harness.svc.service.url}/webhook`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-hub-signature-256": `sha256=${createHmac("sha256", APP_SECRET).update(raw).digest("hex")}` },
    body: raw,
  });
  if (response.status !== 200) throw new Error(`webhook answered ${response.status}`);
  return eventually("the typed-back message to be stored", async () => {
    const rows = await harness.sql.unsafe<{ id: string }[]>(`select id from "${tenant.schema}".messages where wamid = $1`, [wamid]);
    return rows[0] && { id: rows[0].id, wamid };
  });
}

export { APP_SECRET };
