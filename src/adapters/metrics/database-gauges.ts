import { sql } from "drizzle-orm";

import type { ServiceMetrics } from "../../observability/metrics.js";
import { queryRows, type Database } from "../postgres/db/database.js";

/** Circuit states as gauge values (see domain/circuit-breaker.ts). */
const CIRCUIT_VALUE: Readonly<Record<string, number>> = { closed: 0, half_open: 1, open: 2 };

/**
 * The gauges read from the database at each scrape: what waits in the inbox,
 * the outbox and the send queue, and every account's circuit. Each is one
 * aggregate over an indexed condition (or a table of one row per account),
 * so a scrape costs a few milliseconds whatever the traffic; the values are
 * the deployment's, not this replica's.
 */
export function registerDatabaseGauges(metrics: ServiceMetrics, db: Database, onError: (error: unknown) => void): void {
  metrics.addCollector(async () => {
    const [inbox] = await queryRows<{ backlog: number | string; lag: number | string | null }>(
      db,
      sql`select count(*) as backlog, extract(epoch from now() - min(received_at)) as lag
            from control.webhook_inbox where status = 'pending'`,
    );
    metrics.inboxBacklog.set(Number(inbox?.backlog ?? 0));
    metrics.inboxLag.set(Math.max(0, Number(inbox?.lag ?? 0)));
  }, onError);

  metrics.addCollector(async () => {
    const [outbox] = await queryRows<{ backlog: number | string; lag: number | string | null }>(
      db,
      sql`select count(*) as backlog, extract(epoch from now() - min(created_at)) as lag
            from control.outbox where published_at is null`,
    );
    metrics.outboxBacklog.set(Number(outbox?.backlog ?? 0));
    metrics.relayLag.set(Math.max(0, Number(outbox?.lag ?? 0)));
  }, onError);

  metrics.addCollector(async () => {
    const rows = await queryRows<{ priority: number | string; state: string; depth: number | string }>(
      db,
      sql`select priority,
                 case when locked_until is not null and locked_until > now() then 'in_flight'
                      when run_at > now() then 'scheduled'
                      else 'ready' end as state,
                 count(*) as depth
            from control.jobs where kind = 'send_message'
           group by 1, 2`,
    );
    // Reset first: a priority/state pair that emptied disappears instead of keeping its last value.
    metrics.sendQueueDepth.reset();
    for (const row of rows) metrics.sendQueueDepth.set({ priority: String(row.priority), state: row.state }, Number(row.depth));
  }, onError);

  metrics.addCollector(async () => {
    const rows = await queryRows<{ account_id: string; circuit_state: string }>(db, sql`select account_id, circuit_state from control.send_pacing`);
    metrics.circuitState.reset();
    for (const row of rows) metrics.circuitState.set({ account_id: row.account_id }, CIRCUIT_VALUE[row.circuit_state] ?? 0);
  }, onError);
}
