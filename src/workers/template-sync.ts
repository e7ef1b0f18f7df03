/**
 * The periodic template sync (a `scheduler` worker): catches status
 * webhooks that were missed by pulling every Meta account's templates
 * (SyncTemplates for each live account with a WABA id).
 *
 * One replica at a time: the sweep is claimed from the shared schedule
 * (ports/template-sync-schedule.ts) and leased for its duration; when done,
 * it is due again one interval later. A replica that dies mid-sweep lets
 * the lease run out and another takes over.
 */
import { randomUUID } from "node:crypto";

import { syncTemplates, type TemplateDeps } from "../app/templates/index.js";
import type { Log } from "../ports/log.js";
import type { TemplateSyncSchedule } from "../ports/template-sync-schedule.js";

export interface TemplateSyncJobOptions {
  schedule: TemplateSyncSchedule;
  deps: TemplateDeps;
  logger: Log;
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
    const { schedule, logger } = this.#options;
    await schedule.ensure();
    const sweepId = await schedule.claimDue(this.#owner, this.#options.leaseMs ?? 10 * 60_000);
    if (sweepId === undefined) return undefined;
    const result: SweepResult = { accounts: 0, failed: 0 };
    try {
      const targets = await schedule.accountsToSync();
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
      await schedule.finish(sweepId, this.#owner, this.#options.intervalMs, result.failed > 0 ? `${result.failed} of ${result.accounts} accounts failed` : null);
    }
    logger.info({ ...result }, "template sync sweep done");
    return result;
  }
}
