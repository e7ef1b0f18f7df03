/**
 * The durable inbox of webhook deliveries, as the inbox worker consumes it
 * (adapters/postgres inbox-queue.ts implements it on `control.webhook_inbox`):
 * claims with a lease, one transaction per batch that stores what the
 * deliveries say and marks their rows done together, and failed attempts
 * recorded for a later retry.
 */
import type { InboundDelivery } from "../domain/inbound.js";
import type { InboundStore } from "./inbound-store.js";

export interface ClaimedDelivery {
  id: string;
  /** Attempts including this one. */
  attempts: number;
  receivedAt: Date;
  /** The delivery's bytes, read by the claim so the worker can plan its batches before any transaction. */
  body: Buffer;
  /** Which edge wrote it: `meta`, `twilio`, or `sandbox` for the SANDBOX provider's own status deliveries. */
  provider: string;

  /** W3C `traceparent` of the webhook request that stored it (null when it was not traced). */
  traceContext?: string | null;
  /** The path it was posted to (Twilio: with the query, which names our message on status callbacks). */
  path: string;
}

export type FinalStatus = "processed" | "unroutable" | "malformed";

/** A claimed row with its body read (by the provider's parser) before any transaction. */
export type PlannedDelivery = { row: ClaimedDelivery } & ({ kind: "delivery"; delivery: InboundDelivery } | { kind: "malformed"; reason: string });

/** What applying one delivery gave: its row's final status, and the caller's own outcome. */
export interface AppliedDelivery<T> {
  status: "processed" | "unroutable";
  outcome: T;
}

/** Per row of a batch: done (with the outcome when it was applied), or no longer this worker's (its lease was taken over). */
export type BatchRowResult<T> = { status: FinalStatus; outcome?: T } | { status: "not_ours" };

export interface InboxQueue {
  claim(options: { workerId: string; limit: number; leaseMs: number; providers: readonly string[] }): Promise<ClaimedDelivery[]>;
  /**
   * One transaction for the batch: the rows still ours are locked, `apply`
   * stores their deliveries through the given stores (bound to the
   * transaction), and the rows are marked done — all committed together.
   * Deadlocks and serialization failures are retried here a few times.
   */
  applyBatch<T>(
    workerId: string,
    batch: readonly PlannedDelivery[],
    apply: (items: { delivery: InboundDelivery; store: InboundStore }[]) => Promise<AppliedDelivery<T>[]>,
  ): Promise<BatchRowResult<T>[]>;
  /**
   * After a failed attempt: claimable again from `retryInMs` on, or `failed`
   * once `maxAttempts` is reached (undefined: the row was not ours any more).
   */
  recordFailure(
    row: ClaimedDelivery,
    options: { workerId: string; maxAttempts: number; retryInMs: number; error: string },
  ): Promise<"pending" | "failed" | undefined>;
}
