/**
 * Delivering a queued send: the heart of the outbound path. The sender
 * worker (workers/sender.ts) claims jobs and paces them; each claimed send
 * comes here at its slot.
 *
 * 1. `deliverSend`: the provider call and what its answer means — sent,
 *    retry with backoff and jitter (per recipient for the pair rate limit,
 *    131056), failed with the provider's code and title, the account paused
 *    (190: token expired), or unknown (the answer was lost after the request
 *    went out: never resent, reconciled from status webhooks). A send
 *    claimed before its account's circuit opened is held, not sent.
 * 2. `recordDeliveries`: a batch of deliveries fed to the accounts' circuit
 *    breakers first, then recorded one tenant transaction at a time, with
 *    the statuses that beat the provider's answer applied by the status use
 *    case in that transaction.
 * 3. `reconcileDelivery`: a send found `sending` (its worker died or the
 *    answer was lost) settled from its statuses, never sent again.
 */
import type { CircuitSettings, SendResultKind } from "../../domain/circuit-breaker.js";
import { classifyProviderError, decideAfterError, type RetryPolicy } from "../../domain/send-policy.js";
import type { Log } from "../../ports/log.js";
import type { SendCredentials } from "../../ports/send-credentials.js";
import type { ClaimedJob, ClaimedSend, SendAccount, SendQueue } from "../../ports/send-queue.js";
import type { ApplyEarlyStatuses, ReconcileOutcome, ReconcileSettings, SendResult, SendResults } from "../../ports/send-results.js";
import type { ProviderAccount, ProviderRegistry, SendOutcome } from "../../ports/whatsapp-provider.js";
import { applyPendingStatuses } from "../apply-message-status.js";

/** Meta's "too many messages from this number" (the number's throughput): the account's next slot is pushed out. */
const THROTTLED = 130429;

/** One finished send: what to record, what it tells the circuit breaker, and whether the number was throttled. */
export interface Delivery {
  result: SendResult;
  circuit: SendResultKind;
  throttled: boolean;
}

export interface DeliverSendDeps {
  providers: ProviderRegistry;
  credentials: SendCredentials;
  log: Log;
  now: () => Date;
  /** This host's clock in epoch ms (slots and circuit times are on it). */
  epochMs: () => number;
  retry: RetryPolicy;
  /** Jitter source (tests make it fixed). */
  random: () => number;
  /** After an unknown outcome, when to look for the message's statuses. */
  reconcileCheckEveryMs: number;
}

/**
 * Sends one claimed message through its account's provider and interprets
 * the answer. `circuitOpenUntil`: when this process saw the account's
 * circuit open, until when (epoch ms) — a send claimed before it opened is
 * given back to the queue instead.
 */
export async function deliverSend(deps: DeliverSendDeps, send: ClaimedSend, circuitOpenUntil?: number): Promise<Delivery> {
  if (circuitOpenUntil !== undefined && deps.epochMs() < circuitOpenUntil) {
    return { result: { kind: "missed", send, reason: "circuit open" }, circuit: "neutral", throttled: false };
  }
  let account: ProviderAccount;
  try {
    account = deps.credentials.open(send.account);
  } catch (error) {
    // Sealed with another ENCRYPTION_KEY, or tampered with: the account needs an operator, like an expired token.
    deps.log.error({ err: error, accountId: send.account.id }, "the account's credentials cannot be decrypted");
    return interpretOutcome(deps, send, {
      kind: "rejected",
      error: { code: 0, title: "Credentials unreadable", details: "stored credentials could not be decrypted", httpStatus: 401 },
    });
  }
  let outcome: SendOutcome;
  try {
    const provider = deps.providers.forAccount(account);
    outcome = await provider.send(account, { messageId: send.message.id, to: send.message.recipient, body: { type: send.message.type, ...send.message.content } });
  } catch (error) {
    // Nothing reached the provider (e.g. the sandbox could not write its statuses): safe to try again.
    deps.log.warn({ err: error, messageId: send.message.id }, "send failed before reaching the provider");
    outcome = { kind: "rejected", error: { code: 0, title: "Send error", details: error instanceof Error ? error.message : String(error), httpStatus: 0 } };
  }
  return interpretOutcome(deps, send, outcome);
}

/** What a provider's answer means for the message, its account's circuit and its pacing (domain/send-policy.ts). */
export function interpretOutcome(deps: DeliverSendDeps, send: ClaimedSend, outcome: SendOutcome): Delivery {
  if (outcome.kind === "accepted") {
    return { result: { kind: "sent", send, wamid: outcome.providerMessageId, at: deps.now() }, circuit: "success", throttled: false };
  }
  if (outcome.kind === "unknown") {
    deps.log.warn({ messageId: send.message.id, accountId: send.account.id, error: outcome.error }, "send outcome unknown; reconciling from status webhooks");
    return { result: { kind: "unknown", send, error: outcome.error, checkInMs: deps.reconcileCheckEveryMs }, circuit: "fault", throttled: false };
  }
  const error = outcome.error;
  const circuit: SendResultKind = classifyProviderError(error).providerFault ? "fault" : "success";
  const throttled = error.code === THROTTLED;
  const decision = decideAfterError(error, send.message.attemptCount, deps.retry, deps.random);
  switch (decision.kind) {
    case "retry":
      return { result: { kind: "retry", send, error, delayMs: decision.delayMs }, circuit, throttled };
    case "fail":
      return { result: { kind: "failed", send, error, retryable: decision.retryable }, circuit, throttled };
    case "pause_account":
      // The next send of the account reads its credentials again (an operator may have replaced the token).
      deps.credentials.forget(send.account.id);
      deps.log.error(
        { accountId: send.account.id, tenantId: send.account.tenantId, code: error.code, title: error.title },
        "the provider refused the account's credentials or the number cannot send: account marked degraded, its queue paused",
      );
      return { result: { kind: "paused", send, error }, circuit, throttled };
  }
}

export interface RecordDeliveriesDeps {
  queue: SendQueue;
  results: SendResults;
  log: Log;
  newId: () => string;
  now: () => Date;
  circuit: CircuitSettings;
  /** After a 130429, the account's next slot is pushed this far out. */
  throttlePauseMs: number;
}

export interface RecordedDeliveries {
  /** Deliveries recorded (committed). */
  recorded: number;
  /** Deliveries of tenants whose transaction failed: to record again. */
  kept: Delivery[];
  /** Tenants whose transaction failed. */
  failedTenants: number;
  /** Events written (notify the relay when not zero). */
  events: number;
  /** Accounts whose circuit was updated, with when it stays open until (undefined: not open). */
  circuits: Map<string, number | undefined>;
}

/**
 * Records a batch: the circuit breakers first — the jobs stay leased until
 * their results are recorded, so a circuit opened by this batch is in place
 * before any of its retries can be claimed — then one transaction per tenant.
 */
export async function recordDeliveries(deps: RecordDeliveriesDeps, batch: readonly Delivery[]): Promise<RecordedDeliveries> {
  const circuits = await feedCircuits(deps, batch);
  const byTenant = new Map<string, Delivery[]>();
  for (const delivery of batch) {
    const tenantId = delivery.result.send.job.tenantId;
    const list = byTenant.get(tenantId) ?? [];
    list.push(delivery);
    byTenant.set(tenantId, list);
  }
  const applyEarly = earlyStatusApplier(deps);
  const recorded: RecordedDeliveries = { recorded: 0, kept: [], failedTenants: 0, events: 0, circuits };
  await Promise.all(
    [...byTenant].map(async ([tenantId, deliveries]) => {
      try {
        recorded.events += await deps.results.record(
          tenantId,
          deliveries.map((d) => d.result),
          applyEarly,
        );
        recorded.recorded += deliveries.length;
      } catch (error) {
        recorded.failedTenants += 1;
        deps.log.error({ err: error, tenantId, results: deliveries.length }, "could not record send results; will try again");
        recorded.kept.push(...deliveries);
      }
    }),
  );
  return recorded;
}

async function feedCircuits(deps: RecordDeliveriesDeps, batch: readonly Delivery[]): Promise<Map<string, number | undefined>> {
  const byAccount = new Map<string, { results: SendResultKind[]; throttled: boolean }>();
  for (const item of batch) {
    const entry = byAccount.get(item.result.send.account.id) ?? { results: [], throttled: false };
    entry.results.push(item.circuit);
    entry.throttled ||= item.throttled;
    byAccount.set(item.result.send.account.id, entry);
  }
  const circuits = new Map<string, number | undefined>();
  for (const [accountId, entry] of byAccount) {
    try {
      const state = await deps.queue.recordCircuitResults(accountId, entry.results, {
        settings: deps.circuit,
        throttled: entry.throttled,
        pauseMs: deps.throttlePauseMs,
      });
      circuits.set(accountId, state?.state === "open" && state.openUntil !== null ? state.openUntil : undefined);
      if (state?.state === "open") {
        deps.log.warn(
          { accountId, failures: state.failures, openUntil: state.openUntil === null ? undefined : new Date(state.openUntil).toISOString() },
          "circuit open: the provider keeps failing for this account",
        );
      }
    } catch (error) {
      deps.log.error({ err: error, accountId }, "could not update the account's circuit breaker");
    }
  }
  return circuits;
}

/**
 * A send found `sending` by a claim: settled from the statuses that name it
 * (recorded with the status use case), waiting, or failed once the window
 * has passed. Never sent again.
 */
export async function reconcileDelivery(
  deps: Pick<RecordDeliveriesDeps, "results" | "newId" | "now">,
  job: ClaimedJob,
  account: SendAccount,
  settings: ReconcileSettings,
): Promise<{ outcome: ReconcileOutcome; events: number }> {
  return deps.results.reconcile({ ...job, account }, settings, earlyStatusApplier(deps));
}

/**
 * The statuses that arrived before the wamid was known (kept while the
 * provider's answer was on its way) are applied like any status, by the
 * status use case, in the transaction that records the wamid.
 */
export function earlyStatusApplier(deps: { newId: () => string; now: () => Date }): ApplyEarlyStatuses {
  return async (scope, wamid) => (await applyPendingStatuses(scope.tenant, wamid, scope.accountFor, { newId: deps.newId, now: deps.now })).length;
}
