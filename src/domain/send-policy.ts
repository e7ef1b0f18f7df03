/**
 * What the sender does after a provider refused a send (SPEC §8, reference
 * §6.2): retry with backoff, retry later for the same recipient, fail for
 * good, or stop the whole account. Meta says to key on `error.code`, not on
 * titles or HTTP statuses; the HTTP status only decides for codes this table
 * does not know (5xx → retry, 4xx → permanent).
 *
 * Twilio's codes (reference §9.4) live in the same table: they are five
 * digits (20xxx, 21xxx, 63xxx) and never collide with Meta's, and the
 * stored error keeps the provider's own code.
 */

export type ErrorAction =
  /** Transient (network, 5xx, throughput, maintenance): try again after a backoff. */
  | "retry"
  /** Pair rate limit (131056): this recipient only, after a longer wait; other recipients go on. */
  | "retry_recipient"
  /** The message can never go out as it is (bad number, template mismatch, outside the window…). */
  | "permanent"
  /** The number cannot send at all (token expired, account locked…): pause it, keep its messages queued. */
  | "account";

export interface ErrorClass {
  action: ErrorAction;
  /** Counts towards the account's circuit breaker: the provider itself is failing (not throttling, not refusing this message). */
  providerFault: boolean;
}

/**
 * Codes retried with backoff; throttles do not open the circuit, outages do.
 * Twilio: 20429 too many requests, 63017/63018 rate limit of the account or
 * the channel (WhatsApp's 429/471/1015 behind it).
 */
const RETRY_THROTTLE = new Set([4, 80007, 130429, 20429, 63017, 63018]);
const RETRY_OUTAGE = new Set([1, 2, 131000, 131016, 131057, 133004]);
const PAIR_RATE_LIMIT = 131056;
/** Twilio 20003: the account SID or auth token is wrong — like Meta's 190, the number cannot send at all. */
const TWILIO_AUTHENTICATION_FAILED = 20003;
/**
 * The number itself cannot send: expired or invalid token (190, 0), account
 * locked or restricted (131031, 368), payment/eligibility (131042), number
 * not registered or deleted (133010, 131045, 33). Failing every queued
 * message one by one would burn the queue; pausing keeps it for when an
 * operator fixes the account.
 */
const ACCOUNT_LEVEL = new Set([0, 190, 33, 368, 131031, 131042, 131045, 133010, TWILIO_AUTHENTICATION_FAILED]);

/** Meta's numeric code (0 = AuthException, or no code) and the HTTP status of the answer (0 = no answer). */
export function classifyProviderError(error: { code: number; httpStatus: number }): ErrorClass {
  const { code, httpStatus } = error;
  if (httpStatus === 0) return { action: "retry", providerFault: true }; // network error before any answer
  if (code === PAIR_RATE_LIMIT) return { action: "retry_recipient", providerFault: false };
  if (RETRY_THROTTLE.has(code)) return { action: "retry", providerFault: false };
  if (RETRY_OUTAGE.has(code)) return { action: "retry", providerFault: true };
  if (ACCOUNT_LEVEL.has(code) && (code !== 0 || httpStatus === 401 || httpStatus === 403)) return { action: "account", providerFault: false };
  if (httpStatus === 429) return { action: "retry", providerFault: false };
  if (httpStatus >= 500) return { action: "retry", providerFault: true };
  return { action: "permanent", providerFault: false };
}

export interface RetryPolicy {
  /** Send attempts before a retryable error becomes `failed` (the first send counts). */
  maxAttempts: number;
  /** First backoff; doubles per attempt. */
  baseDelayMs: number;
  /** Backoff ceiling. */
  maxDelayMs: number;
  /** First wait after a pair-rate refusal; ×4 per attempt (Meta: retry after 4^X seconds). */
  pairRateBaseDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  pairRateBaseDelayMs: 1_000,
};

export type SendDecision =
  | { kind: "retry"; delayMs: number }
  | { kind: "fail"; retryable: boolean; reason: "permanent" | "attempts_exhausted" }
  | { kind: "pause_account" };

/**
 * The decision after attempt number `attempt` (1 = the first send) failed
 * with `error`. `random` in [0, 1) supplies the jitter.
 */
export function decideAfterError(
  error: { code: number; httpStatus: number },
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): SendDecision {
  const { action } = classifyProviderError(error);
  if (action === "account") return { kind: "pause_account" };
  if (action === "permanent") return { kind: "fail", retryable: false, reason: "permanent" };
  if (attempt >= policy.maxAttempts) return { kind: "fail", retryable: true, reason: "attempts_exhausted" };
  return { kind: "retry", delayMs: backoffDelay(action, attempt, policy, random) };
}

/**
 * "Equal jitter": half the exponential delay is fixed, half random. The
 * fixed half keeps a retry from coming back at once; the random half
 * spreads the retries of many messages refused together (a 5xx burst, a
 * throughput refusal) so they do not return as one wave.
 */
export function backoffDelay(action: "retry" | "retry_recipient", attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const step = Math.max(0, attempt - 1);
  const exponential = action === "retry_recipient" ? policy.pairRateBaseDelayMs * 4 ** step : policy.baseDelayMs * 2 ** step;
  const capped = Math.min(policy.maxDelayMs, exponential);
  return Math.round(capped / 2 + random() * (capped / 2));
}
