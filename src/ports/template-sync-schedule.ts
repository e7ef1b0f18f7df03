/**
 * The schedule of the periodic template sync, shared by every replica
 * (adapters/postgres template-sync-schedule.ts: one leased row in
 * control.jobs), and the accounts it visits.
 */
export interface TemplateSyncSchedule {
  /** Creates the schedule once (idempotent; safe when two replicas start together). */
  ensure(): Promise<void>;
  /** Takes the sweep if it is due and nobody holds it: its id, or undefined. */
  claimDue(owner: string, leaseMs: number): Promise<string | undefined>;
  /** Gives the sweep back, due again `intervalMs` from now. */
  finish(sweepId: string, owner: string, intervalMs: number, lastError: string | null): Promise<void>;
  /** The live Meta accounts that have a WABA. */
  accountsToSync(): Promise<{ id: string; tenantId: string }[]>;
}
