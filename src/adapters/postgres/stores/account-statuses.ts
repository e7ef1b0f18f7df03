import { sql } from "drizzle-orm";

import { queryRows, type Database } from "../db/database.js";

/** Live (not deleted) accounts per status, across tenants — what `/health/whatsapp` reports. */
export async function accountStatusCounts(db: Database): Promise<Record<string, number>> {
  const rows = await queryRows<{ status: string; count: number }>(
    db,
    sql`select status, count(*)::int as count from control.accounts where delete_time is null group by status`,
  );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.count)]));
}
