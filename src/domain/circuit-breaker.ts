/**
 * A circuit breaker per account: when the provider keeps failing for a
 * number (outages, 5xx, timeouts — not throttling and not refusals of one
 * message), stop sending for that number for a while instead of spending
 * every queued message's attempts against a wall.
 *
 * - closed: sends flow; provider faults are counted, a success resets the count.
 * - open: `failureThreshold` faults in a row opened it; nothing is sent
 *   until `openUntil`.
 * - half_open: after `openUntil` one send goes out as a probe (the claim
 *   takes one job and moves the breaker here, with `openUntil` as the
 *   probe's deadline). Its success closes the breaker; its failure opens it
 *   again. A probe that never reports (its worker died) is replaced once
 *   the deadline passes.
 *
 * The state lives in the database beside the account's pacing (one row per
 * account), so every replica sees the same breaker: a failing number is
 * paused for the whole service, not once per replica. Pure: times are
 * epoch milliseconds passed in.
 */

export type CircuitStateName = "closed" | "open" | "half_open";

export interface CircuitState {
  state: CircuitStateName;
  /** Provider faults in a row (across replicas). */
  failures: number;
  /** open: when a probe may go; half_open: the probe's deadline. Epoch ms. */
  openUntil: number | null;
}

export interface CircuitSettings {
  /** Faults in a row that open the breaker. */
  failureThreshold: number;
  /** How long it stays open before a probe. */
  openMs: number;
  /** How long a probe may take before another one is allowed. */
  probeTimeoutMs: number;
}

export const DEFAULT_CIRCUIT_SETTINGS: CircuitSettings = { failureThreshold: 10, openMs: 30_000, probeTimeoutMs: 60_000 };

export const CLOSED_CIRCUIT: CircuitState = { state: "closed", failures: 0, openUntil: null };

/** One send's result as the breaker sees it. */
export type SendResultKind = "success" | "fault" | "neutral";

/** How many sends the breaker lets a claim take now: all it wants, one probe, or none. */
export function admission(circuit: CircuitState, now: number): "all" | "probe" | "none" {
  if (circuit.state === "closed") return "all";
  if (circuit.openUntil === null || circuit.openUntil <= now) return "probe";
  return "none";
}

/** The claim took the probe: half open until the probe reports or its deadline passes. */
export function probeTaken(circuit: CircuitState, now: number, settings: CircuitSettings): CircuitState {
  return { state: "half_open", failures: circuit.failures, openUntil: now + settings.probeTimeoutMs };
}

/** Applies send results in the order they finished. */
export function recordResults(circuit: CircuitState, results: readonly SendResultKind[], now: number, settings: CircuitSettings): CircuitState {
  let current = circuit;
  for (const result of results) {
    if (result === "success") current = CLOSED_CIRCUIT;
    else if (result === "fault") {
      const failures = current.failures + 1;
      const opens = current.state === "half_open" || (current.state === "closed" && failures >= settings.failureThreshold);
      if (opens) current = { state: "open", failures, openUntil: now + settings.openMs };
      else current = { ...current, failures };
    }
  }
  return current;
}

export function sameCircuit(a: CircuitState, b: CircuitState): boolean {
  return a.state === b.state && a.failures === b.failures && a.openUntil === b.openUntil;
}
