/**
 * In-memory counts of webhook deliveries by outcome, kept for a `/metrics`
 * route (not built yet). Labels are a fixed, small set (never an account id
 * or a path), so they can become Prometheus label values as they are.
 */
export type WebhookOutcome =
  /** Stored (pending) and answered 200. */
  | "accepted"
  /** Signed but not a JSON object: stored as malformed, answered 400. */
  | "malformed"
  | "signature_missing"
  | "signature_malformed"
  | "signature_mismatch"
  /** No app secret configured for the route: every delivery is refused (401). */
  | "no_app_secret"
  | "too_large"
  | "unknown_account"
  | "method_not_allowed"
  /** The client went away before the body arrived. */
  | "aborted"
  /** The inbox could not take it (database down, queue full, timeout): 503. */
  | "unavailable"
  | "verification_ok"
  | "verification_refused";

export const WEBHOOK_OUTCOMES: readonly WebhookOutcome[] = [
  "accepted",
  "malformed",
  "signature_missing",
  "signature_malformed",
  "signature_mismatch",
  "no_app_secret",
  "too_large",
  "unknown_account",
  "method_not_allowed",
  "aborted",
  "unavailable",
  "verification_ok",
  "verification_refused",
];

export class WebhookCounters {
  readonly #counts = new Map<WebhookOutcome, number>(WEBHOOK_OUTCOMES.map((o) => [o, 0]));

  count(outcome: WebhookOutcome): void {
    this.#counts.set(outcome, (this.#counts.get(outcome) ?? 0) + 1);
  }

  get(outcome: WebhookOutcome): number {
    return this.#counts.get(outcome) ?? 0;
  }

  /** Every outcome with its count (zeros included, so a scrape always sees the full set). */
  snapshot(): Record<WebhookOutcome, number> {
    return Object.fromEntries(this.#counts) as Record<WebhookOutcome, number>;
  }
}
