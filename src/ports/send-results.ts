/**
 * Where the sender records what became of its sends (adapters/postgres
 * send-results.ts implements it: one tenant transaction per batch, the
 * messages, their jobs and their events together).
 */
import type { AccountRef } from "../domain/inbound-events.js";
import type { TenantInboundStore } from "./inbound-store.js";
import type { SendAccount, ClaimedSend } from "./send-queue.js";
import type { ProviderError } from "./whatsapp-provider.js";

export type SendResult =
  | { kind: "sent"; send: ClaimedSend; wamid: string; at: Date }
  | { kind: "retry"; send: ClaimedSend; error: ProviderError; delayMs: number }
  | { kind: "failed"; send: ClaimedSend; error: ProviderError; retryable: boolean }
  | { kind: "paused"; send: ClaimedSend; error: ProviderError }
  | { kind: "unknown"; send: ClaimedSend; error: ProviderError; checkInMs: number }
  /**
   * Not sent — its slot passed while the process was paused (the sender's
   * lanes), or the account's circuit opened after it was claimed: queued
   * again, the attempt not counted.
   */
  | { kind: "missed"; send: ClaimedSend; reason: string };

export interface ReconcileSettings {
  /** How long after `sending` status webhooks may still settle the message. */
  windowMs: number;
  /** How often to look again meanwhile. */
  checkEveryMs: number;
}

export type ReconcileOutcome = "reconciled" | "waiting" | "failed" | "finished";

/**
 * What the recording transaction offers to apply the statuses that beat the
 * provider's answer (kept while the wamid was unknown): the tenant's inbound
 * store bound to that transaction, under the wamid's status lock.
 */
export interface EarlyStatusScope {
  tenant: TenantInboundStore;
  accountFor(accountId: string): Promise<AccountRef | undefined>;
}

/** Applies the statuses kept for `wamid`, in the recording transaction; the number of events written. */
export type ApplyEarlyStatuses = (scope: EarlyStatusScope, wamid: string) => Promise<number>;

export interface SendResults {
  /**
   * Records one tenant's results in one transaction; after the wamids of
   * sent messages are recorded, calls `applyEarly` for each that has kept
   * statuses. Returns the number of events written.
   */
  record(tenantId: string, results: readonly SendResult[], applyEarly: ApplyEarlyStatuses): Promise<number>;
  /**
   * A message left `sending` (its worker died or the answer was lost): never
   * sent again; settled from the statuses that name it, or failed once the
   * window has passed.
   */
  reconcile(
    item: { jobId: string; tenantId: string; messageId: string; account: SendAccount },
    settings: ReconcileSettings,
    applyEarly: ApplyEarlyStatuses,
  ): Promise<{ outcome: ReconcileOutcome; events: number }>;
}
