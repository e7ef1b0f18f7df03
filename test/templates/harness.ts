/**
 * What the TemplateService test files share: a tenant's clients, Meta and
 * sandbox accounts, a valid template, Meta-signed status webhooks, the
 * tenant's `template.status` events and rows, and polling with a deadline.
 */
import { fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import type postgres from "postgres";
import { expect } from "vitest";

import { BadRequestSchema, ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AccountService, Provider, type Account } from "../../gen/whatsapp/v1/account_pb.js";
import { TemplateStatusEventSchema } from "../../gen/whatsapp/v1/events_pb.js";
import { MessagingService } from "../../gen/whatsapp/v1/messaging_pb.js";
import { TemplateCategory, TemplateHeader_Format, TemplateService, TemplateStatus, type CreateTemplateRequestSchema, type Template } from "../../gen/whatsapp/v1/template_pb.js";
import { tenantSchemaName } from "../../src/adapters/postgres/index.js";
import { deliver, metaEnvelope } from "../support/meta-simulator.js";
import { clientFor, uniqueTenant } from "../support/service.js";
import { eventually } from "../kit/eventually.js";

export const APP_SECRET = "templates-test-app-secret";
export const TOKEN = "EAAG-templates-token";

export interface Tenant {
  id: string;
  accounts: ReturnType<typeof clientFor<typeof AccountService>>;
  templates: ReturnType<typeof clientFor<typeof TemplateService>>;
  messaging: ReturnType<typeof clientFor<typeof MessagingService>>;
}

export function tenant(serviceUrl: string, label: string): Tenant {
  const id = uniqueTenant(label);
  return {
    id,
    accounts: clientFor(AccountService, serviceUrl, id),
    templates: clientFor(TemplateService, serviceUrl, id),
    messaging: clientFor(MessagingService, serviceUrl, id),
  };
}

let seq = 0;

/** A Meta account with its own WABA (or the one given, to share it). */
export async function metaAccount(t: Tenant, wabaId?: string): Promise<Account> {
  const phoneNumberId = `32${Date.now() % 1_000_000_000}${seq++}`;
  const { account } = await t.accounts.createAccount({
    account: {
      provider: Provider.META,
      phoneNumberId,
      wabaId: wabaId ?? `8${phoneNumberId}`,
      displayName: "Templates",
      displayPhoneNumber: "+14155550100",
      credentials: { accessToken: TOKEN },
    },
  });
  return account!;
}

export async function sandboxAccount(t: Tenant): Promise<Account> {
  const { account } = await t.accounts.createAccount({ account: { provider: Provider.SANDBOX, phoneNumberId: `sandbox-tpl-${Date.now()}-${seq++}`, displayName: "Sandbox" } });
  return account!;
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now() % 1_000_000}_${seq++}`;
}

/** A valid UTILITY template: text header with {{1}}, body with {{1}} {{2}}, footer, URL button with {{1}}. */
export function orderTemplate(accountId: string, name = uniqueName("order_update")): MessageInitShape<typeof CreateTemplateRequestSchema> {
  return {
    template: {
      accountId,
      name,
      language: "en_US",
      category: TemplateCategory.UTILITY,
      components: {
        header: { format: TemplateHeader_Format.TEXT, text: "Order {{1}}", examples: { positional: ["#42"] } },
        body: { text: "Hi {{1}}, your order {{2}} ships today.", examples: { positional: ["Ana", "#42"] } },
        footer: { text: "Reply STOP to opt out" },
        buttons: [{ kind: { case: "url", value: { text: "Track", url: "https://example.com/t/{{1}}", example: "https://example.com/t/42" } } }],
      },
    },
  };
}

export async function refusal(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (e) {
    return ConnectError.from(e);
  }
  throw new Error("expected the call to fail");
}

export function violations(error: ConnectError): string[] {
  return error.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations.map((v) => v.field));
}

export function reason(error: ConnectError): string | undefined {
  return error.findDetails(ErrorInfoSchema)[0]?.reason;
}


export async function templateEvents(sql: postgres.Sql, tenantId: string) {
  const rows = await sql<{ payload: Buffer }[]>`select payload from control.outbox where tenant_id = ${tenantId} and event_type = 'template.status' order by seq`;
  return rows.map((r) => fromBinary(TemplateStatusEventSchema, r.payload));
}

let webhookSeconds = Math.floor(Date.now() / 1000);

/**
 * Meta's `message_template_status_update` webhook, signed, delivered to
 * /webhook. Each carries its own `entry.time` (Meta's review takes longer
 * than a second): the same update delivered twice is a redelivery.
 */
export async function statusWebhook(serviceUrl: string, account: Account, value: Record<string, unknown>): Promise<void> {
  const payload = metaEnvelope(account.wabaId, [{ field: "message_template_status_update", value: value as never }]);
  payload.entry[0]!.time = ++webhookSeconds;
  const result = await deliver(`${serviceUrl}/webhook`, payload, { appSecret: APP_SECRET });
  expect(result.status).toBe(200);
}

/** Meta approves (or otherwise moves) the template by webhook; waits until the service shows `status`. */
export async function providerEvent(serviceUrl: string, t: Tenant, account: Account, template: Template, event: "APPROVED" | "REJECTED" | "PAUSED", status: TemplateStatus): Promise<Template> {
  await statusWebhook(serviceUrl, account, {
    event,
    message_template_id: Number(template.metaTemplateId),
    message_template_name: template.name,
    message_template_language: template.language,
    reason: event === "REJECTED" ? "INVALID_FORMAT" : "NONE",
  });
  return eventually("the template status", async () => {
    const { template: now } = await t.templates.getTemplate({ templateId: template.id });
    return now!.status === status ? now : undefined;
  });
}

export function approve(serviceUrl: string, t: Tenant, account: Account, template: Template): Promise<Template> {
  return providerEvent(serviceUrl, t, account, template, "APPROVED", TemplateStatus.APPROVED);
}

/** The tenant's template rows (all, deleted ones too). */
export function templateRows(sql: postgres.Sql, tenantId: string) {
  return sql.unsafe<{ id: string; name: string; language: string; status: string; version: number; approved_version: number | null; meta_template_id: string | null; delete_time: Date | null }[]>(
    `select id, name, language, status, version, approved_version, meta_template_id, delete_time from "${tenantSchemaName(tenantId)}".templates order by name, language`,
  );
}

export function versionRows(sql: postgres.Sql, tenantId: string, templateId: string) {
  return sql.unsafe<{ version: number; status: string; components: { body: { text: string } } }[]>(
    `select version, status, components from "${tenantSchemaName(tenantId)}".template_versions where template_id = $1 order by version`,
    [templateId],
  );
}

/** Waits until the webhook inbox has nothing pending (every delivery so far applied). */
export async function inboxDrained(sql: postgres.Sql): Promise<void> {
  await eventually("the inbox to be drained", async () => {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from control.webhook_inbox where status = 'pending'`;
    return row!.n === 0 ? true : undefined;
  });
}
