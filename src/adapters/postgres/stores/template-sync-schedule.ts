/**
 * The schedule of the periodic template sync (workers/template-sync.ts).
 *
 * One replica at a time: the sweep is one `template_sync` row in
 * control.jobs, claimed with FOR UPDATE SKIP LOCKED and leased
 * (`locked_until`) for the sweep's duration; when done, its `run_at` moves
 * one interval ahead. A replica that dies mid-sweep lets the lease run out
 * and another takes over. The row is created once (under an advisory
 * transaction lock, so two starting replicas do not both create it).
 */
import { LockClass } from "../db/lock-classes.js";
import { and, eq, isNull, ne, sql } from "drizzle-orm";

import type { TemplateSyncSchedule } from "../../../ports/template-sync-schedule.js";
import type { Database } from "../db/database.js";
import { queryRows } from "../db/database.js";
import { accounts } from "../schema/control.js";

export const TEMPLATE_SYNC_JOB = "template_sync";
/** Advisory lock (class, key) taken while creating the sweep row (class registered in db/lock-classes.ts). */
const CREATE_LOCK = [LockClass.templateSyncSchedule, 1] as const;

/** The template sync schedule on PostgreSQL. */
export class PostgresTemplateSyncSchedule implements TemplateSyncSchedule {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async ensure(): Promise<void> {
    const db = this.#db;
    const [exists] = await queryRows<{ id: string }>(db, sql`select id from control.jobs where kind = ${TEMPLATE_SYNC_JOB} limit 1`);
    if (exists) return;
    await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${CREATE_LOCK[0]}::integer, ${CREATE_LOCK[1]}::integer)`);
      await tx.execute(
        sql`insert into control.jobs (kind, payload, run_at) select ${TEMPLATE_SYNC_JOB}, '{}'::jsonb, now()
             where not exists (select 1 from control.jobs where kind = ${TEMPLATE_SYNC_JOB})`,
      );
    });
  }

  async claimDue(owner: string, leaseMs: number): Promise<string | undefined> {
    const [claimed] = await queryRows<{ id: string }>(
      this.#db,
      sql`with due as (
            select id from control.jobs
             where kind = ${TEMPLATE_SYNC_JOB} and run_at <= now() and (locked_until is null or locked_until <= now())
             order by run_at limit 1 for update skip locked)
          update control.jobs j set locked_by = ${owner}, locked_until = now() + make_interval(secs => ${leaseMs / 1000}), attempts = j.attempts + 1
            from due where j.id = due.id returning j.id`,
    );
    return claimed?.id;
  }

  async finish(sweepId: string, owner: string, intervalMs: number, lastError: string | null): Promise<void> {
    await this.#db.execute(
      sql`update control.jobs set run_at = now() + make_interval(secs => ${intervalMs / 1000}), locked_by = null, locked_until = null, attempts = 0,
            last_error = ${lastError}
           where id = ${sweepId}::uuid and locked_by = ${owner}`,
    );
  }

  accountsToSync(): Promise<{ id: string; tenantId: string }[]> {
    return this.#db
      .select({ id: accounts.id, tenantId: accounts.tenantId })
      .from(accounts)
      .where(and(eq(accounts.provider, "meta"), ne(accounts.wabaId, ""), ne(accounts.status, "disabled"), isNull(accounts.deleteTime)));
  }
}
