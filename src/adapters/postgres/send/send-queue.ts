/**
 * `send_message` jobs in `control.jobs` as the send queue shared by every
 * replica, paced per account through `control.send_pacing`.
 *
 * One claim is one short transaction:
 *
 * 1. Lock the pacing rows of active accounts that have due jobs and whose
 *    circuit admits sends — FOR UPDATE SKIP LOCKED, so two replicas never
 *    pace the same account at once (one of them takes it on its next tick).
 * 2. Per account, ask the bucket how many slots fit in the horizon
 *    (domain/token-bucket.ts, on the database's clock, so replicas on
 *    different hosts agree), claim at most that many jobs — highest
 *    priority first (OTP > transactional > marketing), then oldest — with
 *    FOR UPDATE SKIP LOCKED and a lease, and take exactly that many slots.
 * 3. Write the buckets back, and mark the claimed messages `sending` (one
 *    UPDATE per tenant schema) — committed BEFORE anything is sent, so a
 *    crash leaves `sending`, never a message that might go out twice.
 *
 * A claimed job whose message is already `sending` was left by a worker
 * that died (or whose answer was lost): it comes back for reconciliation,
 * never for a second send. A job whose message is gone or already past
 * sending is finished.
 */
import { isBsuid } from "../../../domain/contact-identity.js";
import { sql, type SQL } from "drizzle-orm";

import type { Provider } from "../../../domain/account.js";
import {
  admission,
  probeTaken,
  recordResults,
  sameCircuit,
  type CircuitSettings,
  type CircuitState,
  type CircuitStateName,
  type SendResultKind,
} from "../../../domain/circuit-breaker.js";
import { takeSlots } from "../../../domain/token-bucket.js";
import type { Claim, ClaimedJob, ClaimSettings, SendAccount, SendQueue } from "../../../ports/send-queue.js";
import type { Database } from "../db/database.js";
import { queryRows } from "../db/database.js";
import { SEND_MESSAGE_JOB } from "../stores/outbound-transaction.js";
import { accounts, jobs, sendPacing } from "../schema/control.js";
import { contacts, messages } from "../schema/tenant.js";
import { setTenantSearchPath, tenantSchemaName } from "../db/tenant-scope.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface DueAccountRow extends Record<string, unknown> {
  id: string;
  tenant_id: string;
  provider: string;
  phone_number_id: string;
  waba_id: string;
  business_id: string;
  display_phone_number: string;
  rate_limit_per_second: number;
  credentials: Record<string, string> | string;
  metadata: Record<string, string> | string;
  update_ms: string | number;
  next_slot_ms: string | number;
  circuit_state: string;
  consecutive_failures: number;
  open_until_ms: string | number | null;
  db_now_ms: string | number;
}

/** Creates the pacing row of every live account that has none (new accounts). Cheap; idempotent. */
export async function ensurePacingRows(db: Database): Promise<void> {
  await db.execute(sql`
    insert into ${sendPacing} (account_id)
    select a.id from ${accounts} a
     where a.delete_time is null
       and not exists (select 1 from ${sendPacing} p where p.account_id = a.id)
    on conflict do nothing`);
}

export async function claimSends(db: Database, settings: ClaimSettings): Promise<Claim> {
  return db.transaction(async (tx) => {
    // Slots are computed on the database's clock (one clock for every replica) and sent on this
    // host's: a round trip that does nothing else measures the offset between the two tightly.
    const localBefore = Date.now();
    const [clock] = await queryRows<{ db_now_ms: string | number }>(tx, sql`select extract(epoch from clock_timestamp()) * 1000 as db_now_ms`);
    const offset = Number(clock!.db_now_ms) - (localBefore + Date.now()) / 2;
    const due = await queryRows<DueAccountRow>(
      tx,
      sql`
        select a.id, a.tenant_id, a.provider, a.phone_number_id, a.waba_id, a.business_id, a.display_phone_number,
               a.rate_limit_per_second, a.credentials, a.metadata,
               extract(epoch from a.update_time) * 1000 as update_ms,
               extract(epoch from p.next_slot_at) * 1000 as next_slot_ms,
               p.circuit_state, p.consecutive_failures,
               extract(epoch from p.circuit_open_until) * 1000 as open_until_ms,
               extract(epoch from clock_timestamp()) * 1000 as db_now_ms
          from ${sendPacing} p
          join ${accounts} a on a.id = p.account_id
         where a.status = 'active' and a.delete_time is null
           and (p.circuit_state = 'closed' or p.circuit_open_until is null or p.circuit_open_until <= now())
           and exists (
             select 1 from ${jobs} j
              where j.kind = ${SEND_MESSAGE_JOB}
                and (j.payload->>'accountId') = a.id::text
                and j.run_at <= now()
                and (j.locked_until is null or j.locked_until < now()))
         order by p.next_slot_at
         for update of p skip locked`,
    );
    const claim: Claim = { sends: [], reconciles: [], finished: 0, accountsSeen: due.length, circuits: new Map() };
    if (due.length === 0) return claim;
    const dbNow = Number(due[0]!.db_now_ms);

    const pacingUpdates: SQL[] = [];
    const claimedJobs: { job: ClaimedJob; account: SendAccount; slotAt: number; probe: boolean }[] = [];
    let budget = settings.maxTotal;
    for (const row of due) {
      if (budget <= 0) break;
      const account = sendAccountFromRow(row);
      const circuit: CircuitState = {
        state: row.circuit_state as CircuitStateName,
        failures: Number(row.consecutive_failures),
        openUntil: row.open_until_ms === null ? null : Number(row.open_until_ms),
      };
      const admitted = admission(circuit, dbNow);
      if (admitted === "none") continue;
      const bucket = { nextSlotAt: Number(row.next_slot_ms), ratePerSecond: account.rateLimitPerSecond, headroom: settings.headroom, now: dbNow, horizonMs: settings.horizonMs };
      const available = takeSlots({ ...bucket, wanted: Infinity }).slots.length;
      const wanted = Math.min(available, settings.maxPerAccount, budget, admitted === "probe" ? 1 : Infinity);
      if (wanted <= 0) continue;
      const taken = await claimJobsOfAccount(tx, account.id, wanted, settings);
      if (taken.length === 0) continue;
      budget -= taken.length;
      const grant = takeSlots({ ...bucket, wanted: taken.length });
      const nextCircuit = admitted === "probe" ? probeTaken(circuit, dbNow, settings.circuit) : circuit;
      claim.circuits.set(account.id, nextCircuit);
      pacingUpdates.push(
        sql`(${account.id}::uuid, ${grant.nextSlotAt}::double precision, ${nextCircuit.state}::text, ${nextCircuit.openUntil}::double precision)`,
      );
      taken.forEach((job, i) => claimedJobs.push({ job, account, slotAt: grant.slots[i]! - offset, probe: admitted === "probe" }));
    }
    if (pacingUpdates.length > 0) {
      await tx.execute(sql`
        update ${sendPacing} p
           set next_slot_at = to_timestamp(v.next_ms / 1000.0),
               circuit_state = v.state,
               circuit_open_until = case when v.open_ms is null then null else to_timestamp(v.open_ms / 1000.0) end,
               update_time = now()
          from (values ${sql.join(pacingUpdates, sql`, `)}) as v(account_id, next_ms, state, open_ms)
         where p.account_id = v.account_id`);
    }
    await markSending(tx, claimedJobs, claim);
    return claim;
  });
}

/** Claims up to `limit` due jobs of one account, best priority first. */
async function claimJobsOfAccount(tx: Database, accountId: string, limit: number, settings: ClaimSettings): Promise<ClaimedJob[]> {
  const rows = await queryRows<{ id: string; tenant_id: string | null; message_id: string | null; priority: number; run_ms: string | number; trace_context: string | null }>(
    tx,
    sql`
      update ${jobs}
         set locked_by = ${settings.workerId},
             locked_until = now() + make_interval(secs => ${settings.leaseMs / 1000}),
             attempts = attempts + 1
       where id in (
         select id from ${jobs}
          where kind = ${SEND_MESSAGE_JOB}
            and (payload->>'accountId') = ${accountId}
            and run_at <= now()
            and (locked_until is null or locked_until < now())
          order by priority desc, run_at, id
          limit ${limit}
          for update skip locked)
      returning id, tenant_id, payload->>'messageId' as message_id, priority, extract(epoch from run_at) * 1000 as run_ms, trace_context`,
  );
  // UPDATE … RETURNING has no order: slots go to the best priority first.
  rows.sort((a, b) => b.priority - a.priority || Number(a.run_ms) - Number(b.run_ms) || (a.id < b.id ? -1 : 1));
  return rows.map((r) => ({ jobId: r.id, tenantId: r.tenant_id ?? "", accountId, messageId: r.message_id ?? "", traceContext: r.trace_context ?? null }));
}

/**
 * Per tenant: queued → sending (attempt counted) for the claimed messages.
 * Messages already `sending` go to reconciliation; anything else finishes
 * its job.
 */
async function markSending(tx: Database, claimed: { job: ClaimedJob; account: SendAccount; slotAt: number; probe: boolean }[], claim: Claim): Promise<void> {
  const finishedJobIds: string[] = [];
  const byTenant = new Map<string, typeof claimed>();
  for (const item of claimed) {
    if (!UUID.test(item.job.messageId) || item.job.tenantId === "" || item.job.tenantId !== item.account.tenantId) {
      finishedJobIds.push(item.job.jobId);
      continue;
    }
    const list = byTenant.get(item.job.tenantId) ?? [];
    list.push(item);
    byTenant.set(item.job.tenantId, list);
  }
  for (const [tenantId, items] of byTenant) {
    await setTenantSearchPath(tx, tenantSchemaName(tenantId));
    const ids = sql.join(
      items.map((i) => sql`${i.job.messageId}`),
      sql`, `,
    );
    const marked = await queryRows<{
      id: string;
      account_id: string;
      conversation_id: string | null;
      contact_id: string;
      recipient: string;
      phone_e164: string | null;
      type: string;
      content: unknown;
      metadata: Record<string, string> | null;
      attempt_count: number;
      idempotency_key: string | null;
    }>(
      tx,
      sql`
        update ${messages} m
           set status = 'sending', attempt_count = m.attempt_count + 1, next_attempt_time = null, update_time = now()
         where m.id in (${ids}) and m.status = 'queued' and m.direction = 'outbound'
        returning m.id, m.account_id, m.conversation_id, m.contact_id,
                  coalesce(m.recipient, (select c.wa_id from ${contacts} c where c.id = m.contact_id)) as recipient,
                  (select c.phone_e164 from ${contacts} c where c.id = m.contact_id) as phone_e164,
                  m.type, m.content, m.metadata, m.attempt_count, m.idempotency_key`,
    );
    const markedById = new Map(marked.map((m) => [m.id, m]));
    const others = items.filter((i) => !markedById.has(i.job.messageId));
    const sendingIds = new Set<string>();
    if (others.length > 0) {
      const states = await queryRows<{ id: string; status: string }>(
        tx,
        sql`select id, status from ${messages} where id in (${sql.join(
          others.map((i) => sql`${i.job.messageId}`),
          sql`, `,
        )}) and direction = 'outbound'`,
      );
      for (const s of states) if (s.status === "sending") sendingIds.add(s.id);
    }
    for (const item of items) {
      const row = markedById.get(item.job.messageId);
      if (row) {
        claim.sends.push({
          job: item.job,
          account: item.account,
          slotAt: item.slotAt,
          probe: item.probe,
          message: {
            id: row.id,
            accountId: row.account_id,
            conversationId: row.conversation_id ?? undefined,
            contactId: row.contact_id,
            recipient: row.recipient,
            // A BSUID recipient (no phone known) is named by its BSUID.
            contactPhone: row.phone_e164 ?? (isBsuid(row.recipient) ? row.recipient : `+${row.recipient}`),
            type: row.type,
            content: parseJsonObject(row.content),
            metadata: parseJsonObject(row.metadata ?? {}) as Record<string, string>,
            attemptCount: Number(row.attempt_count),
            idempotencyKey: row.idempotency_key ?? undefined,
          },
        });
      } else if (sendingIds.has(item.job.messageId)) {
        claim.reconciles.push({ job: item.job, account: item.account });
      } else {
        finishedJobIds.push(item.job.jobId);
      }
    }
  }
  if (finishedJobIds.length > 0) {
    await deleteJobs(tx, finishedJobIds);
    claim.finished += finishedJobIds.length;
  }
}

export async function deleteJobs(tx: Database, jobIds: readonly string[]): Promise<void> {
  if (jobIds.length === 0) return;
  await tx.execute(
    sql`delete from ${jobs} where id in (${sql.join(
      jobIds.map((id) => sql`${id}::uuid`),
      sql`, `,
    )})`,
  );
}

/** Gives jobs back to the queue, due after their delay, with the reason kept in `last_error`. */
export async function rescheduleJobs(tx: Database, items: readonly { jobId: string; delayMs: number; reason: string }[]): Promise<void> {
  if (items.length === 0) return;
  const values = sql.join(
    items.map((i) => sql`(${i.jobId}::uuid, ${i.delayMs}::double precision, ${i.reason.slice(0, 2_000)}::text)`),
    sql`, `,
  );
  await tx.execute(sql`
    update ${jobs} j
       set run_at = now() + make_interval(secs => v.delay_ms / 1000.0),
           locked_by = null, locked_until = null, last_error = v.reason
      from (values ${values}) as v(id, delay_ms, reason)
     where j.id = v.id`);
}

function sendAccountFromRow(row: DueAccountRow): SendAccount {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    provider: row.provider as Provider,
    phoneNumberId: row.phone_number_id,
    wabaId: row.waba_id,
    businessId: row.business_id,
    displayPhoneNumber: row.display_phone_number,
    rateLimitPerSecond: Number(row.rate_limit_per_second),
    sealedCredentials: parseJsonObject(row.credentials) as Record<string, string>,
    metadata: parseJsonObject(row.metadata) as Record<string, string>,
    updateTime: Number(row.update_ms),
  };
}

/** jsonb arrives parsed from postgres.js and PGlite, as text from some paths: accept both. */
function parseJsonObject(value: unknown): Record<string, unknown> {
  const parsed: unknown = typeof value === "string" ? JSON.parse(value) : value;
  return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
}

/**
 * Feeds an account's send results (in the order they finished) to its
 * circuit breaker, shared by every replica. All successes on a closed,
 * clean circuit — the common case — write nothing. `throttled` (Meta said
 * 130429: the number is over its throughput, maybe because something else
 * sends from it too) also pushes the account's next slot `pauseMs` out.
 */
export async function recordCircuitResults(
  db: Database,
  accountId: string,
  results: readonly SendResultKind[],
  options: { settings: CircuitSettings; throttled: boolean; pauseMs: number },
): Promise<CircuitState | undefined> {
  const onlySuccess = results.every((r) => r !== "fault");
  if (onlySuccess && !options.throttled) {
    if (!results.includes("success")) return undefined;
    // A success resets the count of a closed circuit, and closes a half-open one (the probe answered).
    await db.execute(sql`
      update ${sendPacing} set circuit_state = 'closed', consecutive_failures = 0, circuit_open_until = null, update_time = now()
       where account_id = ${accountId}::uuid and (consecutive_failures > 0 or circuit_state = 'half_open')`);
    return undefined;
  }
  return db.transaction(async (tx) => {
    const [row] = await queryRows<{ circuit_state: string; consecutive_failures: number; open_until_ms: string | number | null; db_now_ms: string | number }>(
      tx,
      sql`select circuit_state, consecutive_failures, extract(epoch from circuit_open_until) * 1000 as open_until_ms,
                 extract(epoch from clock_timestamp()) * 1000 as db_now_ms
            from ${sendPacing} where account_id = ${accountId}::uuid for update`,
    );
    if (!row) return undefined;
    const current: CircuitState = {
      state: row.circuit_state as CircuitStateName,
      failures: Number(row.consecutive_failures),
      openUntil: row.open_until_ms === null ? null : Number(row.open_until_ms),
    };
    const next = recordResults(current, results, Number(row.db_now_ms), options.settings);
    if (sameCircuit(current, next) && !options.throttled) return next;
    await tx.execute(sql`
      update ${sendPacing}
         set circuit_state = ${next.state}, consecutive_failures = ${next.failures},
             circuit_open_until = ${next.openUntil === null ? null : sql`to_timestamp(${next.openUntil}::double precision / 1000.0)`},
             next_slot_at = ${options.throttled ? sql`greatest(next_slot_at, now() + make_interval(secs => ${options.pauseMs / 1000}))` : sql`next_slot_at`},
             update_time = now()
       where account_id = ${accountId}::uuid`);
    return next;
  });
}

/** The send queue port on PostgreSQL. */
export class PostgresSendQueue implements SendQueue {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  ensurePacing(): Promise<void> {
    return ensurePacingRows(this.#db);
  }

  claim(settings: ClaimSettings): Promise<Claim> {
    return claimSends(this.#db, settings);
  }

  recordCircuitResults(
    accountId: string,
    results: readonly SendResultKind[],
    options: { settings: CircuitSettings; throttled: boolean; pauseMs: number },
  ): Promise<CircuitState | undefined> {
    return recordCircuitResults(this.#db, accountId, results, options);
  }
}
