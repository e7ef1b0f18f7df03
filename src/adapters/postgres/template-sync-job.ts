/**
 * The periodic template sync (a `scheduler` worker): catches status
 * webhooks that were missed by pulling every Meta account's templates
 * (SyncTemplates for each live account with a WABA id).
 *
 * One replica at a time: the sweep is one `template_sync` row in
 * control.jobs, claimed with FOR UPDATE SKIP LOCKED and leased
 * (`locked_until`) for the sweep's duration; when done, its `run_at` moves
 * one interval ahead. A replica that dies mid-sweep lets the lease run out
 * and another takes over. The row is created once (under an advisory
 * transaction lock, so two starting replicas do not both create it).
 */
import { randomUUID } from "node:crypto";

import { and, eq, isNull, ne, sql } from "drizzle-orm";

import { syncTemplates, type TemplateDeps } from "../../app/templates/index.js";
import type { AppContext } from "../../context.js";
import type { Logger } from "../../observability/logger.js";
import type { Database } from "./database.js";
import { queryRows } from "./database.js";
import { accounts } from "./schema/control.js";

export const TEMPLATE_SYNC_JOB = "template_sync";
/** Advisory lock (class, key) taken while creating the sweep row ("wa" + 7; 4 is the wamid locks). */
const CREATE_LOCK = [0x7761_0007, 1] as const;

export interface TemplateSyncJobOptions {
  db: Database;
  deps: TemplateDeps;
  logger: Logger;
  /** Time between sweeps. */
  intervalMs: number;
  /** How often a replica looks whether a sweep is due. Default: a tenth of the interval, 1 s to 60 s. */
  pollMs?: number;
  /** How long a claimed sweep is held before another replica may take it over. Default 10 min. */
  leaseMs?: number;
}

export interface SweepResult {
  accounts: number;
  failed: number;
}

export class TemplateSyncJob {
  readonly #options: TemplateSyncJobOptions;
  readonly #owner = `template-sync-${randomUUID()}`;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = false;

  constructor(options: TemplateSyncJobOptions) {
    this.#options = options;
  }

  start(): void {
    const poll = this.#options.pollMs ?? Math.min(60_000, Math.max(1_000, Math.floor(this.#options.intervalMs / 10)));
    const tick = () => {
      if (this.#stopped) return;
      this.#running = this.runOnce()
        .catch((error: unknown) => this.#options.logger.error({ err: error }, "template sync sweep failed"))
        .finally(() => {
          this.#running = undefined;
          if (!this.#stopped) this.#timer = setTimeout(tick, poll);
        });
    };
    this.#timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** One sweep if one is due and no other replica holds it; undefined when there was nothing to do. */
  async runOnce(): Promise<SweepResult | undefined> {
    const { db, logger } = this.#options;
    await this.#ensureRow();
    const leaseMs = this.#options.leaseMs ?? 10 * 60_000;
    const [claimed] = await queryRows<{ id: string }>(
      db,
      sql`with due as (
            select id from control.jobs
             where kind = ${TEMPLATE_SYNC_JOB} and run_at <= now() and (locked_until is null or locked_until <= now())
             order by run_at limit 1 for update skip locked)
          update control.jobs j set locked_by = ${this.#owner}, locked_until = now() + make_interval(secs => ${leaseMs / 1000}), attempts = j.attempts + 1
            from due where j.id = due.id returning j.id`,
    );
    if (!claimed) return undefined;
    const result: SweepResult = { accounts: 0, failed: 0 };
    try {
      const targets = await db
        .select({ id: accounts.id, tenantId: accounts.tenantId })
        .from(accounts)
        .where(and(eq(accounts.provider, "meta"), ne(accounts.wabaId, ""), ne(accounts.status, "disabled"), isNull(accounts.deleteTime)));
      for (const target of targets) {
        if (this.#stopped) break;
        result.accounts += 1;
        try {
          const counts = await syncTemplates(this.#options.deps, target.tenantId, target.id);
          logger.debug({ tenantId: target.tenantId, accountId: target.id, ...counts }, "templates synced");
        } catch (error) {
          result.failed += 1;
          logger.warn({ err: error, tenantId: target.tenantId, accountId: target.id }, "template sync of an account failed; the next sweep tries again");
        }
      }
    } finally {
      await db.execute(
        sql`update control.jobs set run_at = now() + make_interval(secs => ${this.#options.intervalMs / 1000}), locked_by = null, locked_until = null, attempts = 0,
              last_error = ${result.failed > 0 ? `${result.failed} of ${result.accounts} accounts failed` : null}
             where id = ${claimed.id}::uuid and locked_by = ${this.#owner}`,
      );
    }
    logger.info(result, "template sync sweep done");
    return result;
  }

  async #ensureRow(): Promise<void> {
    const { db } = this.#options;
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
}

/** The sync as a background worker: on replicas running `scheduler`, unless TEMPLATE_SYNC_INTERVAL_SECONDS is 0. */
export function startTemplateSyncJob(app: AppContext): TemplateSyncJob | undefined {
  if (!app.config.workers.has("scheduler") || app.config.templateSyncIntervalSeconds === 0) return undefined;
  const job = new TemplateSyncJob({
    db: app.database.db,
    deps: { templates: app.templates, accounts: app.accounts, templateProviders: app.templateProviders, newId: app.newId, now: app.now },
    logger: app.logger.child({ worker: "template-sync" }),
    intervalMs: app.config.templateSyncIntervalSeconds * 1000,
  });
  job.start();
  return job;
}
