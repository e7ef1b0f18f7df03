/**
 * Sends queued messages: claims `send_message` jobs paced per account
 * (send-queue.ts), sends each at its slot through the account's provider,
 * and records the results in batches (send-results.ts).
 *
 * - Claims run every `claimIntervalMs` while there is work and hand out
 *   slots at most `horizonMs` ahead, so a claimed message waits in memory
 *   for a fraction of a second at most. Idle, the worker sleeps until the
 *   send wake-up or `pollIntervalMs`.
 * - Each provider answer is classified by the domain's send policy: sent,
 *   retry with backoff and jitter (per recipient for the pair rate limit),
 *   failed with Meta's code and title, or the account paused (190).
 * - A lost answer (timeout after the request went out) is never resent: the
 *   message stays `sending` and is reconciled from status webhooks, as is
 *   one left `sending` by a worker that died (reconcileSend).
 * - Results feed the account's circuit breaker, shared through PostgreSQL.
 */
import { randomBytes } from "node:crypto";

import { CREDENTIAL_NAMES, type AccountCredentials } from "../../domain/account.js";
import { DEFAULT_CIRCUIT_SETTINGS, type CircuitSettings, type SendResultKind } from "../../domain/circuit-breaker.js";
import { classifyProviderError, decideAfterError, DEFAULT_RETRY_POLICY, type RetryPolicy } from "../../domain/send-policy.js";
import { slotIntervalMs } from "../../domain/token-bucket.js";
import type { ProviderAccount, ProviderRegistry, SendOutcome } from "../../ports/whatsapp-provider.js";
import type { SecretBox } from "../crypto/secret-box.js";
import type { Wakeup } from "../shared/wakeup.js";
import { credentialAssociatedData } from "./account-repository.js";
import type { Database } from "./database.js";
import { SendLanes } from "./send-lanes.js";
import { claimSends, ensurePacingRows, recordCircuitResults, type ClaimedJob, type ClaimedSend, type SendAccount } from "./send-queue.js";
import { reconcileSend, recordSendResults, type ReconcileSettings, type SendResult } from "./send-results.js";

export interface SenderWorkerLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export interface SenderWorkerOptions {
  db: Database;
  providers: ProviderRegistry;
  secretBox: SecretBox;
  logger: SenderWorkerLogger;
  newId: () => string;
  now: () => Date;
  /** Notified when send jobs are committed. */
  wakeup?: Wakeup;
  /** Called after a commit that wrote events (the relay's wake-up). */
  onEventsCommitted?: () => void;
  workerId?: string;
  /** Slots are handed out this far ahead. Default 200 ms. */
  horizonMs?: number;
  /** Claims while busy. Default 50 ms. */
  claimIntervalMs?: number;
  /** Longest idle sleep without a wake-up. Default 500 ms. */
  pollIntervalMs?: number;
  /** Lease of a claimed job; far above the Graph timeout. Default 120 s. */
  leaseMs?: number;
  /** Share of each account's rate kept free for jitter (send-lanes.ts). Default 0.04. */
  headroom?: number;
  /** Claimed sends not yet recorded, at most. Default 4,000. */
  maxInFlight?: number;
  /** Most jobs one claim takes for one account. Default 1,000. */
  maxPerAccount?: number;
  /** Results are recorded at least this often. Default 25 ms. */
  flushIntervalMs?: number;
  /** After a 130429, the account's next slot is pushed this far out. Default 1,000 ms. */
  throttlePauseMs?: number;
  retry?: Partial<RetryPolicy>;
  circuit?: Partial<CircuitSettings>;
  reconcile?: Partial<ReconcileSettings>;
  /** Jitter source (tests make it fixed). */
  random?: () => number;
}

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

/** What tests and benches may tune (everything but the dependencies the context gives). */
export type SenderTuning = Partial<
  Omit<SenderWorkerOptions, "db" | "providers" | "secretBox" | "logger" | "wakeup" | "onEventsCommitted" | "newId" | "now">
>;

export class SenderWorker {
  readonly workerId: string;
  readonly #o: Required<Omit<SenderWorkerOptions, "wakeup" | "onEventsCommitted" | "workerId" | "retry" | "circuit" | "reconcile">>;
  readonly #wakeup: Wakeup | undefined;
  readonly #onEventsCommitted: () => void;
  readonly #retry: RetryPolicy;
  readonly #circuit: CircuitSettings;
  readonly #reconcile: ReconcileSettings;
  readonly #stats: SenderWorkerStats = { claimed: 0, sent: 0, retried: 0, failed: 0, paused: 0, unknown: 0, missed: 0, reconciled: 0, recordFailures: 0 };
  readonly #credentials = new Map<string, { updateTime: number; account: ProviderAccount }>();
  /** Finished sends waiting to be recorded. */
  #results: { result: SendResult; circuit: SendResultKind; throttled: boolean }[] = [];
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
    this.#retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.#circuit = { ...DEFAULT_CIRCUIT_SETTINGS, ...options.circuit };
    this.#reconcile = { ...DEFAULT_RECONCILE, ...options.reconcile };
    this.#o = {
      db: options.db,
      providers: options.providers,
      secretBox: options.secretBox,
      logger: options.logger,
      newId: options.newId,
      now: options.now,
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
  }

  start(): void {
    if (this.#running) return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#claiming = this.#claimLoop(abort.signal);
    this.#running = Promise.all([this.#claiming, this.#recordLoop(abort.signal)]).then(() => undefined);
    this.#o.logger.info({ workerId: this.workerId, horizonMs: this.#o.horizonMs, headroom: this.#o.headroom }, "sender worker started");
  }

  /** Stops claiming; the sends already claimed go out (their slots are at most horizonMs away) and are recorded. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#abort?.abort();
    await this.#running;
    this.#running = undefined;
    this.#o.logger.info({ workerId: this.workerId, ...this.#stats }, "sender worker stopped");
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
        this.#o.logger.error({ err: error, workerId: this.workerId }, "send claim failed");
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
      await ensurePacingRows(this.#o.db);
      this.#lastEnsure = Date.now();
    }
    const capacity = this.#o.maxInFlight - this.#inFlight;
    if (capacity <= 0) return true;
    const claim = await claimSends(this.#o.db, {
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
    const task = this.#send(send);
    this.#sending.add(task);
    void task.finally(() => this.#sending.delete(task));
  }

  async #send(send: ClaimedSend): Promise<void> {
    const openUntil = this.#openUntil.get(send.account.id);
    if (openUntil !== undefined && Date.now() < openUntil) {
      this.#stats.missed += 1;
      this.#results.push({ result: { kind: "missed", send, reason: "circuit open" }, circuit: "neutral", throttled: false });
      return;
    }
    let outcome: SendOutcome;
    let account: ProviderAccount;
    try {
      account = this.#providerAccount(send.account);
    } catch (error) {
      // Sealed with another ENCRYPTION_KEY, or tampered with: the account needs an operator, like an expired token.
      this.#o.logger.error({ err: error, accountId: send.account.id }, "the account's credentials cannot be decrypted");
      this.#results.push(this.#interpret(send, { kind: "rejected", error: { code: 0, title: "Credentials unreadable", details: "stored credentials could not be decrypted", httpStatus: 401 } }));
      return;
    }
    try {
      const provider = this.#o.providers.forAccount(account);
      outcome = await provider.send(account, { messageId: send.message.id, to: send.message.recipient, body: { type: send.message.type, ...send.message.content } });
    } catch (error) {
      // Nothing reached the provider (e.g. the sandbox could not write its statuses): safe to try again.
      this.#o.logger.warn({ err: error, messageId: send.message.id }, "send failed before reaching the provider");
      outcome = { kind: "rejected", error: { code: 0, title: "Send error", details: error instanceof Error ? error.message : String(error), httpStatus: 0 } };
    }
    this.#results.push(this.#interpret(send, outcome));
  }

  #interpret(send: ClaimedSend, outcome: SendOutcome): { result: SendResult; circuit: SendResultKind; throttled: boolean } {
    if (outcome.kind === "accepted") {
      this.#stats.sent += 1;
      return { result: { kind: "sent", send, wamid: outcome.providerMessageId, at: this.#o.now() }, circuit: "success", throttled: false };
    }
    if (outcome.kind === "unknown") {
      this.#stats.unknown += 1;
      this.#o.logger.warn({ messageId: send.message.id, accountId: send.account.id, error: outcome.error }, "send outcome unknown; reconciling from status webhooks");
      return { result: { kind: "unknown", send, error: outcome.error, checkInMs: this.#reconcile.checkEveryMs }, circuit: "fault", throttled: false };
    }
    const error = outcome.error;
    const circuit: SendResultKind = classifyProviderError(error).providerFault ? "fault" : "success";
    const throttled = error.code === 130429;
    const decision = decideAfterError(error, send.message.attemptCount, this.#retry, this.#o.random);
    switch (decision.kind) {
      case "retry":
        this.#stats.retried += 1;
        return { result: { kind: "retry", send, error, delayMs: decision.delayMs }, circuit, throttled };
      case "fail":
        this.#stats.failed += 1;
        return { result: { kind: "failed", send, error, retryable: decision.retryable }, circuit, throttled };
      case "pause_account":
        this.#stats.paused += 1;
        this.#credentials.delete(send.account.id);
        this.#o.logger.error(
          { accountId: send.account.id, tenantId: send.account.tenantId, code: error.code, title: error.title },
          "the provider refused the account's credentials or the number cannot send: account marked degraded, its queue paused",
        );
        return { result: { kind: "paused", send, error }, circuit, throttled };
    }
  }

  #providerAccount(account: SendAccount): ProviderAccount {
    const cached = this.#credentials.get(account.id);
    if (cached && cached.updateTime === account.updateTime) return cached.account;
    const credentials: AccountCredentials = {};
    for (const name of CREDENTIAL_NAMES) {
      const sealed = account.sealedCredentials[name];
      if (sealed !== undefined) credentials[name] = this.#o.secretBox.open(sealed, credentialAssociatedData(account.id, name));
    }
    const providerAccount: ProviderAccount = {
      id: account.id,
      tenantId: account.tenantId,
      provider: account.provider,
      phoneNumberId: account.phoneNumberId,
      wabaId: account.wabaId,
      displayPhoneNumber: account.displayPhoneNumber,
      accessToken: credentials.accessToken,
      twilioAccountSid: credentials.twilioAccountSid,
      twilioAuthToken: credentials.twilioAuthToken,
      twilioMessagingServiceSid: credentials.twilioMessagingServiceSid,
      metadata: account.metadata,
    };
    this.#credentials.set(account.id, { updateTime: account.updateTime, account: providerAccount });
    return providerAccount;
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
        this.#o.logger.error({ unrecorded: this.#results.length }, "stopping with send results not recorded");
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
    const byTenant = new Map<string, SendResult[]>();
    for (const { result } of batch) {
      const list = byTenant.get(result.send.job.tenantId) ?? [];
      list.push(result);
      byTenant.set(result.send.job.tenantId, list);
    }
    // The breaker first: the jobs stay leased until their results are recorded, so a circuit
    // opened by this batch is in place before any of its retries can be claimed.
    await this.#feedCircuits(batch);
    const kept: typeof batch = [];
    let events = 0;
    await Promise.all(
      [...byTenant].map(async ([tenantId, results]) => {
        try {
          events += await recordSendResults(this.#o.db, tenantId, results, { newId: this.#o.newId, now: this.#o.now });
          this.#inFlight -= results.length;
        } catch (error) {
          this.#stats.recordFailures += 1;
          this.#o.logger.error({ err: error, tenantId, results: results.length }, "could not record send results; will try again");
          kept.push(...batch.filter((b) => b.result.send.job.tenantId === tenantId));
        }
      }),
    );
    if (events > 0) this.#onEventsCommitted();
    if (kept.length > 0) {
      this.#results.unshift(...kept);
      await sleep(RECORD_RETRY_MS);
    }
  }

  async #feedCircuits(batch: readonly { result: SendResult; circuit: SendResultKind; throttled: boolean }[]): Promise<void> {
    const byAccount = new Map<string, { results: SendResultKind[]; throttled: boolean }>();
    for (const item of batch) {
      const entry = byAccount.get(item.result.send.account.id) ?? { results: [], throttled: false };
      entry.results.push(item.circuit);
      entry.throttled ||= item.throttled;
      byAccount.set(item.result.send.account.id, entry);
    }
    for (const [accountId, entry] of byAccount) {
      try {
        const state = await recordCircuitResults(this.#o.db, accountId, entry.results, {
          settings: this.#circuit,
          throttled: entry.throttled,
          pauseMs: this.#o.throttlePauseMs,
        });
        if (state?.state === "open" && state.openUntil !== null) this.#openUntil.set(accountId, state.openUntil);
        else this.#openUntil.delete(accountId);
        if (state?.state === "open") {
          this.#o.logger.warn(
            { accountId, failures: state.failures, openUntil: state.openUntil === null ? undefined : new Date(state.openUntil).toISOString() },
            "circuit open: the provider keeps failing for this account",
          );
        }
      } catch (error) {
        this.#o.logger.error({ err: error, accountId }, "could not update the account's circuit breaker");
      }
    }
  }

  #queueReconcile(job: ClaimedJob, account: SendAccount): void {
    this.#reconciling = this.#reconciling.then(async () => {
      try {
        const { outcome, events } = await reconcileSend(this.#o.db, { ...job, account }, this.#reconcile, { newId: this.#o.newId, now: this.#o.now });
        if (events > 0) this.#onEventsCommitted();
        if (outcome === "reconciled") this.#stats.reconciled += 1;
        if (outcome === "failed") this.#stats.failed += 1;
        if (outcome !== "waiting") this.#o.logger.info({ messageId: job.messageId, outcome }, "send left in `sending` reconciled");
      } catch (error) {
        this.#o.logger.error({ err: error, messageId: job.messageId }, "could not reconcile a send left in `sending`");
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
