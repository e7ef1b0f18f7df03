/**
 * Sends queued messages: claims `send_message` jobs paced per account (the
 * send queue port), sends each at its slot (app/messaging/deliver-send.ts:
 * the provider call and what its answer means), and records the results in
 * batches (the send results port).
 *
 * - Claims run every `claimIntervalMs` while there is work and hand out
 *   slots at most `horizonMs` ahead, so a claimed message waits in memory
 *   for a fraction of a second at most. Idle, the worker sleeps until the
 *   send wake-up or `pollIntervalMs`.
 * - A lost answer (timeout after the request went out) is never resent: the
 *   message stays `sending` and is reconciled from status webhooks, as is
 *   one left `sending` by a worker that died (reconcileDelivery).
 * - Results feed the account's circuit breaker, shared by every replica.
 */
import { randomBytes } from "node:crypto";

import { deliverSend, reconcileDelivery, recordDeliveries, type Delivery, type DeliverSendDeps, type RecordDeliveriesDeps } from "../app/messaging/deliver-send.js";
import type { SenderTuning } from "../config.js";
import { DEFAULT_CIRCUIT_SETTINGS, type CircuitSettings } from "../domain/circuit-breaker.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "../domain/send-policy.js";
import { slotIntervalMs } from "../domain/token-bucket.js";
import type { Log } from "../ports/log.js";
import type { SendCredentials } from "../ports/send-credentials.js";
import type { ClaimedJob, ClaimedSend, SendAccount, SendQueue } from "../ports/send-queue.js";
import type { ReconcileSettings, SendResults } from "../ports/send-results.js";
import type { ProviderRegistry } from "../ports/whatsapp-provider.js";
import { SendLanes } from "./send-lanes.js";

/** Waits until notified or the timeout passes (adapters/shared/wakeup.ts). */
export interface WakeSignal {
  wait(timeoutMs: number, signal?: AbortSignal): Promise<void>;
}

export interface SenderWorkerDeps {
  queue: SendQueue;
  results: SendResults;
  credentials: SendCredentials;
  providers: ProviderRegistry;
  logger: Log;
  newId: () => string;
  now: () => Date;
  /** Notified when send jobs are committed. */
  wakeup?: WakeSignal;
  /** Called after a commit that wrote events (the relay's wake-up). */
  onEventsCommitted?: () => void;
}

export type SenderWorkerOptions = SenderWorkerDeps & SenderTuning;

export interface SenderWorkerStats {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
  paused: number;
  unknown: number;
  /** Sends whose slot passed while the process was paused: given back to the queue, not sent. */
  missed: number;
  reconciled: number;
  /** Batches of results that could not be recorded at the first try. */
  recordFailures: number;
}

const DEFAULT_RECONCILE: ReconcileSettings = { windowMs: 10 * 60_000, checkEveryMs: 15_000 };
const ENSURE_PACING_EVERY_MS = 1_000;
const RECORD_RETRY_MS = 500;

export class SenderWorker {
  readonly workerId: string;
  readonly #o: Required<Omit<SenderTuning, "workerId" | "retry" | "circuit" | "reconcile">>;
  readonly #wakeup: WakeSignal | undefined;
  readonly #onEventsCommitted: () => void;
  readonly #logger: Log;
  readonly #queue: SendQueue;
  readonly #circuit: CircuitSettings;
  readonly #reconcile: ReconcileSettings;
  readonly #deliver: DeliverSendDeps;
  readonly #record: RecordDeliveriesDeps;
  readonly #stats: SenderWorkerStats = { claimed: 0, sent: 0, retried: 0, failed: 0, paused: 0, unknown: 0, missed: 0, reconciled: 0, recordFailures: 0 };
  /** Finished sends waiting to be recorded. */
  #results: Delivery[] = [];
  /** Sends claimed and not yet recorded. */
  #inFlight = 0;
  readonly #sending = new Set<Promise<void>>();
  readonly #lanes = new SendLanes<ClaimedSend>(
    (send) => this.#release(send),
    (send) => {
      this.#stats.missed += 1;
      this.#results.push({ result: { kind: "missed", send, reason: "slot missed (process paused)" }, circuit: "neutral", throttled: false });
    },
  );
  /**
   * When this worker recorded an account's circuit open, until when: sends
   * claimed before it opened and still waiting for their slot are held back
   * (queued again) instead of going out while it is open.
   */
  readonly #openUntil = new Map<string, number>();
  #reconciling: Promise<void> = Promise.resolve();
  #abort: AbortController | undefined;
  #claiming: Promise<void> = Promise.resolve();
  #running: Promise<void> | undefined;
  #lastEnsure = 0;

  constructor(options: SenderWorkerOptions) {
    this.workerId = options.workerId ?? `sender-${randomBytes(6).toString("hex")}`;
    this.#wakeup = options.wakeup;
    this.#onEventsCommitted = options.onEventsCommitted ?? (() => {});
    this.#logger = options.logger;
    this.#queue = options.queue;
    const retry: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.#circuit = { ...DEFAULT_CIRCUIT_SETTINGS, ...options.circuit };
    this.#reconcile = { ...DEFAULT_RECONCILE, ...options.reconcile };
    this.#o = {
      horizonMs: options.horizonMs ?? 200,
      claimIntervalMs: options.claimIntervalMs ?? 50,
      pollIntervalMs: options.pollIntervalMs ?? 500,
      leaseMs: options.leaseMs ?? 120_000,
      headroom: options.headroom ?? 0.04,
      maxInFlight: options.maxInFlight ?? 4_000,
      maxPerAccount: options.maxPerAccount ?? 1_000,
      flushIntervalMs: options.flushIntervalMs ?? 25,
      throttlePauseMs: options.throttlePauseMs ?? 1_000,
      random: options.random ?? Math.random,
    };
    this.#deliver = {
      providers: options.providers,
      credentials: options.credentials,
      log: options.logger,
      now: options.now,
      epochMs: () => Date.now(),
      retry,
      random: this.#o.random,
      reconcileCheckEveryMs: this.#reconcile.checkEveryMs,
    };
    this.#record = {
      queue: options.queue,
      results: options.results,
      log: options.logger,
      newId: options.newId,
      now: options.now,
      circuit: this.#circuit,
      throttlePauseMs: this.#o.throttlePauseMs,
    };
  }

  start(): void {
    if (this.#running) return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#claiming = this.#claimLoop(abort.signal);
    this.#running = Promise.all([this.#claiming, this.#recordLoop(abort.signal)]).then(() => undefined);
    this.#logger.info({ workerId: this.workerId, horizonMs: this.#o.horizonMs, headroom: this.#o.headroom }, "sender worker started");
  }

  /** Stops claiming; the sends already claimed go out (their slots are at most horizonMs away) and are recorded. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#abort?.abort();
    await this.#running;
    this.#running = undefined;
    this.#logger.info({ workerId: this.workerId, ...this.#stats }, "sender worker stopped");
  }

  stats(): SenderWorkerStats {
    return { ...this.#stats };
  }

  async #claimLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let busy = false;
      try {
        busy = await this.#claimOnce();
      } catch (error) {
        this.#logger.error({ err: error, workerId: this.workerId }, "send claim failed");
      }
      if (signal.aborted) break;
      if (busy) await sleep(this.#o.claimIntervalMs, signal);
      else if (this.#wakeup) await this.#wakeup.wait(this.#o.pollIntervalMs, signal);
      else await sleep(this.#o.pollIntervalMs, signal);
    }
  }

  /** One claim; true while there is work (due accounts or sends in flight). */
  async #claimOnce(): Promise<boolean> {
    if (Date.now() - this.#lastEnsure >= ENSURE_PACING_EVERY_MS) {
      await this.#queue.ensurePacing();
      this.#lastEnsure = Date.now();
    }
    const capacity = this.#o.maxInFlight - this.#inFlight;
    if (capacity <= 0) return true;
    const claim = await this.#queue.claim({
      workerId: this.workerId,
      leaseMs: this.#o.leaseMs,
      horizonMs: this.#o.horizonMs,
      headroom: this.#o.headroom,
      maxPerAccount: this.#o.maxPerAccount,
      maxTotal: capacity,
      circuit: this.#circuit,
    });
    this.#stats.claimed += claim.sends.length;
    for (const send of claim.sends) this.#schedule(send);
    for (const item of claim.reconciles) this.#queueReconcile(item.job, item.account);
    return claim.accountsSeen > 0 || this.#inFlight > 0;
  }

  #schedule(send: ClaimedSend): void {
    this.#inFlight += 1;
    const minGapMs = slotIntervalMs(send.account.rateLimitPerSecond, this.#o.headroom);
    this.#lanes.push(send.account.id, send.slotAt, minGapMs, send);
  }

  #release(send: ClaimedSend): void {
    const task = deliverSend(this.#deliver, send, this.#openUntil.get(send.account.id)).then((delivery) => {
      this.#count(delivery);
      this.#results.push(delivery);
    });
    this.#sending.add(task);
    void task.finally(() => this.#sending.delete(task));
  }

  #count(delivery: Delivery): void {
    const key = ({ sent: "sent", retry: "retried", failed: "failed", paused: "paused", unknown: "unknown", missed: "missed" } as const)[delivery.result.kind];
    this.#stats[key] += 1;
  }

  async #recordLoop(signal: AbortSignal): Promise<void> {
    for (;;) {
      const stopping = signal.aborted;
      if (stopping) {
        // A claim in progress may still schedule sends: wait for it, then for every send.
        await this.#claiming;
        await this.#lanes.drained();
        await Promise.all([...this.#sending]);
      }
      await this.#recordOnce();
      if (stopping && this.#results.length === 0) break;
      if (stopping) {
        // Could not record (the database is down): the leases run out and the messages are reconciled.
        this.#logger.error({ unrecorded: this.#results.length }, "stopping with send results not recorded");
        break;
      }
      await sleep(this.#o.flushIntervalMs, signal);
    }
    await this.#reconciling;
  }

  async #recordOnce(): Promise<void> {
    if (this.#results.length === 0) return;
    const batch = this.#results;
    this.#results = [];
    const recorded = await recordDeliveries(this.#record, batch);
    for (const [accountId, openUntil] of recorded.circuits) {
      if (openUntil !== undefined) this.#openUntil.set(accountId, openUntil);
      else this.#openUntil.delete(accountId);
    }
    this.#inFlight -= recorded.recorded;
    this.#stats.recordFailures += recorded.failedTenants;
    if (recorded.events > 0) this.#onEventsCommitted();
    if (recorded.kept.length > 0) {
      this.#results.unshift(...recorded.kept);
      await sleep(RECORD_RETRY_MS);
    }
  }

  #queueReconcile(job: ClaimedJob, account: SendAccount): void {
    this.#reconciling = this.#reconciling.then(async () => {
      try {
        const { outcome, events } = await reconcileDelivery(this.#record, job, account, this.#reconcile);
        if (events > 0) this.#onEventsCommitted();
        if (outcome === "reconciled") this.#stats.reconciled += 1;
        if (outcome === "failed") this.#stats.failed += 1;
        if (outcome !== "waiting") this.#logger.info({ messageId: job.messageId, outcome }, "send left in `sending` reconciled");
      } catch (error) {
        this.#logger.error({ err: error, messageId: job.messageId }, "could not reconcile a send left in `sending`");
      }
    });
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
