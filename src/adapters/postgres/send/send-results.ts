/**
 * What the sender writes after sends finished, one tenant transaction per
 * batch (many results share one commit):
 *
 * - sent: `sending → sent` with the wamid, a `message.status` event, the
 *   job deleted; then the statuses that beat the Graph API answer (kept in
 *   pending_statuses) are applied under the same wamid locks the webhook
 *   processing takes, so none is missed or applied twice.
 * - failed: `failed` with the provider's code, title and details, its
 *   `message.status` (SENDING → FAILED) and `message.failed` events
 *   (domain/message-failure.ts), its one-time code voided, the job deleted.
 *
 * Events are appended as each step applies its changes, so the outbox order
 * within the transaction is the order of the changes.
 * - retry: back to `queued`, `next_attempt_time` set, the job due then.
 * - paused: back to `queued` (the attempt does not count), the job kept, the
 *   account `degraded` — claims skip it until an operator sets it active.
 * - missed: never sent (its slot passed during a pause): back to `queued`,
 *   the attempt not counted, the job due at once.
 * - unknown: the answer was lost; the message stays `sending` and the job
 *   comes back for reconciliation (reconcileSend), never for a send.
 *
 * Every update is conditional on the message still being `sending`, so a
 * result that comes too late to matter changes nothing.
 */
import { sql } from "drizzle-orm";

import type { AccountRef, OutboundMessageSnapshot } from "../../../domain/inbound-events.js";
import type { ProviderError } from "../../../ports/whatsapp-provider.js";
import { eq } from "drizzle-orm";
import type { Database } from "../db/database.js";
import { queryRows } from "../db/database.js";
import { accountRefColumns, PostgresTenantInboundStore } from "../inbox/inbound-store.js";
import { lockWamidsInOrder } from "../inbox/wamid-locks.js";
import { accountFromRow } from "../stores/inbound-rows.js";
import { displayTextOf } from "../stores/inbound-rows.js";
import type { DomainEvent } from "../../../domain/events.js";
import { appendEvents } from "../outbox/outbox.js";
import { messageSentEvent } from "./send-events.js";
import { failureEvents, providerErrorOf } from "../../../domain/message-failure.js";
import type { ClaimedSend, SendAccount } from "../../../ports/send-queue.js";
import type { ApplyEarlyStatuses, EarlyStatusScope, ReconcileOutcome, ReconcileSettings, SendResult, SendResults } from "../../../ports/send-results.js";
import { deleteJobs, rescheduleJobs } from "./send-queue.js";
import { accounts } from "../schema/control.js";
import { messages, pendingStatuses } from "../schema/tenant.js";
import { withTenant } from "../db/tenant-scope.js";
import { voidOtpsOfFailedMessages } from "../stores/otp-failures.js";

export interface ResultDeps {
  newId: () => string;
  now: () => Date;
}

/** Records one tenant's results in one transaction; returns the number of events written. */
export async function recordSendResults(
  db: Database,
  tenantId: string,
  results: readonly SendResult[],
  applyEarly: ApplyEarlyStatuses,
  deps: ResultDeps,
): Promise<number> {
  return withTenant(db, tenantId, async (tx) => {
    // Events are appended as each step applies its changes, so their outbox order is the order of the changes.
    let events = 0;
    const finishedJobs: string[] = [];

    const sent = results.filter((r): r is Extract<SendResult, { kind: "sent" }> => r.kind === "sent");
    if (sent.length > 0) {
      const updated = await updateReturningIds(
        tx,
        sql`update ${messages} m
               set status = 'sent', wamid = v.wamid, sent_time = coalesce(m.sent_time, v.at), update_time = now()
              from (values ${sql.join(
                sent.map((r) => sql`(${r.send.message.id}::uuid, ${r.wamid}::text, ${r.at.toISOString()}::timestamptz)`),
                sql`, `,
              )}) as v(id, wamid, at)
             where m.id = v.id and m.status = 'sending'
         returning m.id`,
      );
      const sentEvents: DomainEvent[] = [];
      for (const r of sent) {
        finishedJobs.push(r.send.job.jobId);
        if (!updated.has(r.send.message.id)) continue;
        sentEvents.push(messageSentEvent(deps.newId(), accountRef(r.send.account), snapshot(r.send, "sent", r.wamid), r.at));
      }
      // Events follow the order the changes are applied (SPEC §7): each
      // message's SENDING → SENT is in the outbox before the early statuses
      // below (delivered, read, failed) that the same transaction applies.
      await appendEvents(tx, sentEvents);
      events += sentEvents.length;
      events += await applyEarlyStatuses(
        tx,
        sent.filter((r) => updated.has(r.send.message.id)).map((r) => r.wamid),
        applyEarly,
        deps,
      );
    }

    const failed = results.filter((r): r is Extract<SendResult, { kind: "failed" }> => r.kind === "failed");
    if (failed.length > 0) {
      const updated = await updateReturningIds(
        tx,
        sql`update ${messages} m
               set status = 'failed', error_code = v.code, error_title = v.title, error_details = nullif(v.details, ''),
                   failed_time = coalesce(m.failed_time, now()), update_time = now()
              from (values ${sql.join(
                failed.map((r) => sql`(${r.send.message.id}::uuid, ${String(r.error.code)}::text, ${r.error.title}::text, ${r.error.details}::text)`),
                sql`, `,
              )}) as v(id, code, title, details)
             where m.id = v.id and m.status = 'sending'
         returning m.id`,
      );
      const at = deps.now();
      // The failure rule (domain/message-failure.ts): message.status → FAILED, then message.failed.
      const failedEvents = failed.flatMap((r) => {
        finishedJobs.push(r.send.job.jobId);
        if (!updated.has(r.send.message.id)) return [];
        return failureEvents(deps.newId, {
          account: accountRef(r.send.account),
          occurredAt: at,
          message: snapshot(r.send, "sending", ""),
          statusTime: at,
          error: providerErrorOf(r.error),
          retryable: r.retryable,
          attemptCount: r.send.message.attemptCount,
          idempotencyKey: r.send.message.idempotencyKey,
        });
      });
      await appendEvents(tx, failedEvents);
      events += failedEvents.length;
      await voidOtpsOfFailedMessages(tx, [...updated]);
    }

    const requeued = results.filter((r) => r.kind === "retry" || r.kind === "paused" || r.kind === "missed");
    if (requeued.length > 0) {
      await tx.execute(sql`
        update ${messages} m
           set status = 'queued', update_time = now(),
               next_attempt_time = now() + make_interval(secs => v.delay_ms / 1000.0),
               attempt_count = greatest(0, m.attempt_count - v.uncount)
          from (values ${sql.join(
            requeued.map((r) => sql`(${r.send.message.id}::uuid, ${r.kind === "retry" ? r.delayMs : 0}::double precision, ${r.kind === "retry" ? 0 : 1}::integer)`),
            sql`, `,
          )}) as v(id, delay_ms, uncount)
         where m.id = v.id and m.status = 'sending'`);
    }
    await rescheduleJobs(
      tx,
      results.flatMap((r) => {
        if (r.kind === "retry") return [{ jobId: r.send.job.jobId, delayMs: r.delayMs, reason: describe(r.error) }];
        if (r.kind === "paused") return [{ jobId: r.send.job.jobId, delayMs: 0, reason: `account paused: ${describe(r.error)}` }];
        if (r.kind === "unknown") return [{ jobId: r.send.job.jobId, delayMs: r.checkInMs, reason: `outcome unknown: ${describe(r.error)}` }];
        if (r.kind === "missed") return [{ jobId: r.send.job.jobId, delayMs: 0, reason: `${r.reason}; not sent` }];
        return [];
      }),
    );
    const degraded = [...new Set(results.filter((r) => r.kind === "paused").map((r) => r.send.account.id))];
    if (degraded.length > 0) {
      await tx.execute(sql`
        update ${accounts} set status = 'degraded', update_time = now()
         where id in (${sql.join(
           degraded.map((id) => sql`${id}::uuid`),
           sql`, `,
         )}) and status = 'active'`);
    }
    await deleteJobs(tx, finishedJobs);
    return events;
  });
}

/**
 * Statuses that arrived before the wamid was recorded. The wamid locks are
 * taken after recording the wamids (the protocol of inbound-store.ts
 * applyPendingStatuses): a status being stored meanwhile either commits
 * first — and is found here — or waits and then sees the message.
 */
async function applyEarlyStatuses(tx: Database, wamids: readonly string[], applyEarly: ApplyEarlyStatuses, deps: ResultDeps): Promise<number> {
  if (wamids.length === 0) return 0;
  const list = sql.join(
    wamids.map((w) => sql`${w}::text`),
    sql`, `,
  );
  // The same global order as the inbox worker's batches (by lock key), so the two never deadlock.
  await lockWamidsInOrder(tx, wamids);
  const waiting = await queryRows<{ wamid: string }>(tx, sql`select distinct wamid from ${pendingStatuses} where wamid in (${list})`);
  let events = 0;
  if (waiting.length === 0) return 0;
  const scope = earlyStatusScope(tx, deps);
  for (const { wamid } of waiting) events += await applyEarly(scope, wamid);
  return events;
}

/** The tenant's inbound store bound to the recording transaction (the status use case runs over it). */
export function earlyStatusScope(tx: Database, deps: ResultDeps): EarlyStatusScope {
  return {
    tenant: new PostgresTenantInboundStore(tx, deps.newId),
    accountFor: async (accountId) => {
      const [row] = await tx.select(accountRefColumns).from(accounts).where(eq(accounts.id, accountId)).limit(1);
      return row && accountFromRow(row);
    },
  };
}

/**
 * A message left `sending` (its worker died, or the provider's answer was
 * lost): it may have been accepted, so it is never sent again here. Meta
 * echoes our message id (`biz_opaque_callback_data`) in the message's
 * status webhooks; a status kept for a wamid we did not know names it.
 * Found → the wamid is recorded and the kept statuses move the message
 * (sent, delivered, read — with their events). Not found within the window
 * → `failed` with "Send outcome unknown", for an operator to check and, if
 * needed, RetryMessage.
 */
export async function reconcileSend(
  db: Database,
  item: { jobId: string; tenantId: string; messageId: string; account: SendAccount },
  settings: ReconcileSettings,
  applyEarly: ApplyEarlyStatuses,
  deps: ResultDeps,
): Promise<{ outcome: ReconcileOutcome; events: number }> {
  return withTenant(db, item.tenantId, async (tx) => {
    const [row] = await queryRows<{ status: string; sending_ms: string | number; attempt_count: number; idempotency_key: string | null }>(
      tx,
      sql`select status, extract(epoch from update_time) * 1000 as sending_ms, attempt_count, idempotency_key
            from ${messages} where id = ${item.messageId}::uuid for update`,
    );
    if (!row || row.status !== "sending") {
      await deleteJobs(tx, [item.jobId]);
      return { outcome: "finished", events: 0 };
    }
    const [evidence] = await queryRows<{ wamid: string }>(
      tx,
      sql`select wamid from ${pendingStatuses} where raw->>'biz_opaque_callback_data' = ${item.messageId} order by received_time limit 1`,
    );
    if (evidence) {
      await tx.execute(sql`update ${messages} set wamid = ${evidence.wamid}, update_time = now() where id = ${item.messageId}::uuid`);
      const events = await applyEarly(earlyStatusScope(tx, deps), evidence.wamid);
      await deleteJobs(tx, [item.jobId]);
      return { outcome: "reconciled", events };
    }
    if (deps.now().getTime() - Number(row.sending_ms) < settings.windowMs) {
      await rescheduleJobs(tx, [{ jobId: item.jobId, delayMs: settings.checkEveryMs, reason: "outcome unknown: waiting for status webhooks" }]);
      return { outcome: "waiting", events: 0 };
    }
    return { outcome: "failed", events: await failUnknown(tx, item, row, settings, deps) };
  });
}

async function failUnknown(
  tx: Database,
  item: { jobId: string; messageId: string; account: SendAccount },
  row: { attempt_count: number; idempotency_key: string | null },
  settings: ReconcileSettings,
  deps: ResultDeps,
): Promise<number> {
  const error: ProviderError = {
    code: 0,
    title: "Send outcome unknown",
    details: `the provider's answer was lost and no status webhook named the message within ${Math.round(settings.windowMs / 1000)} s; it may have been delivered — check before retrying`,
    httpStatus: 0,
  };
  const [message] = await queryRows<{
    conversation_id: string | null;
    contact_id: string;
    recipient: string | null;
    type: string;
    content: unknown;
    metadata: Record<string, string>;
  }>(
    tx,
    sql`update ${messages}
           set status = 'failed', error_code = '0', error_title = ${error.title}, error_details = ${error.details},
               failed_time = now(), update_time = now()
         where id = ${item.messageId}::uuid
     returning conversation_id, contact_id, recipient, type, content, metadata`,
  );
  await deleteJobs(tx, [item.jobId]);
  if (!message) return 0;
  const at = deps.now();
  const events = failureEvents(deps.newId, {
    account: accountRef(item.account),
    occurredAt: at,
    message: {
      id: item.messageId,
      wamid: "",
      accountId: item.account.id,
      conversationId: message.conversation_id ?? undefined,
      contactId: message.contact_id,
      contactPhone: message.recipient ? `+${message.recipient}` : "",
      direction: "outbound",
      type: message.type,
      status: "sending",
      displayText: displayTextOf(message.content),
      metadata: { ...message.metadata },
    },
    statusTime: at,
    error: providerErrorOf(error),
    retryable: false,
    attemptCount: Number(row.attempt_count),
    idempotencyKey: row.idempotency_key ?? undefined,
  });
  await appendEvents(tx, events);
  return events.length;
}

async function updateReturningIds(tx: Database, query: ReturnType<typeof sql>): Promise<Set<string>> {
  const rows = await queryRows<{ id: string }>(tx, query);
  return new Set(rows.map((r) => r.id));
}

export function accountRef(account: SendAccount): AccountRef {
  return {
    id: account.id,
    tenantId: account.tenantId,
    provider: account.provider,
    phoneNumberId: account.phoneNumberId,
    wabaId: account.wabaId,
    businessId: account.businessId,
    displayPhoneNumber: account.displayPhoneNumber,
  };
}

function snapshot(send: ClaimedSend, status: OutboundMessageSnapshot["status"], wamid: string): OutboundMessageSnapshot {
  const m = send.message;
  return {
    id: m.id,
    wamid,
    accountId: m.accountId,
    conversationId: m.conversationId,
    contactId: m.contactId,
    contactPhone: m.contactPhone,
    direction: "outbound",
    type: m.type,
    status,
    displayText: displayTextOf(m.content),
    metadata: m.metadata,
  };
}

function describe(error: ProviderError): string {
  return `${error.code} ${error.title}${error.details ? `: ${error.details}` : ""}${error.httpStatus ? ` (HTTP ${error.httpStatus})` : ""}`;
}

/** The send results port on PostgreSQL. */
export class PostgresSendResults implements SendResults {
  readonly #db: Database;
  readonly #deps: ResultDeps;

  constructor(db: Database, deps: ResultDeps) {
    this.#db = db;
    this.#deps = deps;
  }

  record(tenantId: string, results: readonly SendResult[], applyEarly: ApplyEarlyStatuses): Promise<number> {
    return recordSendResults(this.#db, tenantId, results, applyEarly, this.#deps);
  }

  reconcile(
    item: { jobId: string; tenantId: string; messageId: string; account: SendAccount },
    settings: ReconcileSettings,
    applyEarly: ApplyEarlyStatuses,
  ): Promise<{ outcome: ReconcileOutcome; events: number }> {
    return reconcileSend(this.#db, item, settings, applyEarly, this.#deps);
  }
}
