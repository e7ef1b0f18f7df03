/**
 * What the messaging tests share: the real service on a fresh database (the
 * inbox worker on, the sender off — queued sends stay queued where the
 * tests can read them), clients, accounts, a contact who writes in through
 * a signed webhook (opening the 24-hour window), and direct reads of the
 * tenant's rows and of control.jobs / control.outbox.
 */
import { createHmac, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import type { Client } from "@connectrpc/connect";
import type postgres from "postgres";

import { AccountService, Provider, type Account } from "../../gen/whatsapp/v1/account_pb.js";
import { MessagingService } from "../../gen/whatsapp/v1/messaging_pb.js";
import { tenantSchemaName } from "../../src/adapters/postgres/index.js";
import { clientFor, uniqueTenant, type TestService } from "../support/service.js";
import { startServiceHarness } from "../kit/service-harness.js";
import { eventually } from "../kit/eventually.js";


export const APP_SECRET = "messaging-test-app-secret";

export interface MessagingHarness {
  svc: TestService;
  sql: postgres.Sql;
  cleanup(): Promise<void>;
}

export async function startMessagingHarness(env: Record<string, string> = {}): Promise<MessagingHarness> {
  const { svc, sql, cleanup } = await startServiceHarness({ env: { META_APP_SECRET: APP_SECRET, WORKERS: "inbox", ...env }, sqlConnections: 4 });
  return { svc, sql, cleanup };
}

export interface Tenant {
  id: string;
  schema: string;
  accounts: Client<typeof AccountService>;
  messaging: Client<typeof MessagingService>;
}

export function tenantClients(harness: MessagingHarness, label: string): Tenant {
  const id = uniqueTenant(label);
  return {
    id,
    schema: tenantSchemaName(id),
    accounts: clientFor(AccountService, harness.svc.service.url, id),
    messaging: clientFor(MessagingService, harness.svc.service.url, id),
  };
}

/** A Meta account (inbound webhooks route to Meta accounts by phone number id); the sender is off, so nothing calls Meta. */
export async function createAccount(tenant: Tenant, displayPhoneNumber = "+14155552671"): Promise<Account> {
  const phoneNumberId = `7${randomBytes(6).readUIntBE(0, 6)}`;
  const { account } = await tenant.accounts.createAccount({
    account: { provider: Provider.META, displayName: "Messaging test", phoneNumberId, displayPhoneNumber, credentials: { accessToken: "test-token" } },
  });
  return account!;
}

/** A recipient number no other test uses: +1 415 555 xxxx style US numbers are "possible". */
export function newRecipient(): string {
  return `+1415${(2_000_000 + Math.floor(Math.random() * 7_999_999)).toString()}`;
}

export function newWamid(): string {
  return `wamid.HBgL${randomBytes(24).toString("base64")}`;
}

/**
 * The contact writes to the account (a signed Meta webhook, processed by the
 * service's inbox worker): opens the 24-hour window. Resolves with the
 * stored inbound message once it is in the tenant's schema.
 */
export async function contactWrites(harness: MessagingHarness, tenant: Tenant, account: Account, waId: string, body = "Hola"): Promise<{ id: string; wamid: string }> {
  const wamid = newWamid();
  const payload = {
    object: "whatsapp_business_account",
    entry: [
      {
        id: "waba-test",
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
  };
  const raw = JSON.stringify(payload);
  const response = await fetch(`${harness.svc.service.url}/webhook`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-hub-signature-256": `sha256=${createHmac("sha256", APP_SECRET).update(raw).digest("hex")}` },
    body: raw,
  });
  if (response.status !== 200) throw new Error(`webhook answered ${response.status}`);
  return eventually("the inbound message to be stored", async () => {
    const rows = await harness.sql.unsafe<{ id: string }[]>(`select id from "${tenant.schema}".messages where wamid = $1`, [wamid]).catch(() => []);
    return rows[0] && { id: rows[0].id, wamid };
  });
}


export interface MessageRow {
  id: string;
  account_id: string;
  conversation_id: string | null;
  contact_id: string;
  direction: string;
  type: string;
  status: string;
  content: unknown;
  metadata: Record<string, string>;
  idempotency_key: string | null;
  priority: string | null;
  recipient: string | null;
  reply_to_message_id: string | null;
  attempt_count: number;
}

export async function messageRow(harness: MessagingHarness, tenant: Tenant, id: string): Promise<MessageRow | undefined> {
  const rows = await harness.sql.unsafe<MessageRow[]>(`select * from "${tenant.schema}".messages where id = $1`, [id]);
  return rows[0];
}

export interface JobRow {
  id: string;
  tenant_id: string;
  kind: string;
  payload: { messageId: string; accountId: string };
  priority: number;
}

export async function sendJobsFor(harness: MessagingHarness, messageId: string): Promise<JobRow[]> {
  return harness.sql.unsafe<JobRow[]>(`select * from control.jobs where kind = 'send_message' and payload->>'messageId' = $1`, [messageId]);
}

export async function outboxEventTypes(harness: MessagingHarness, tenant: Tenant): Promise<string[]> {
  const rows = await harness.sql<{ event_type: string }[]>`select event_type from control.outbox where tenant_id = ${tenant.id} order by seq`;
  return rows.map((r) => r.event_type);
}

export interface GraphRequest {
  path: string;
  authorization: string;
  body: unknown;
}

/** A local stand-in for graph.facebook.com that records what it is sent and answers like Meta. */
export async function startGraphStub(): Promise<{ url: string; requests: GraphRequest[]; close(): Promise<void> }> {
  const requests: GraphRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8") || "null");
      requests.push({ path: req.url ?? "", authorization: req.headers.authorization ?? "", body });
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ success: true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
