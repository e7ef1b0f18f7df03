/**
 * The one way tests wait for asynchronous work: poll a probe until it gives a
 * value, with a deadline — never a fixed sleep.
 */
export interface EventuallyOptions {
  /** How long to keep polling (default 20 s: generous, so a loaded machine is slow, not red). */
  timeoutMs?: number;
  /** Pause between probes (default 25 ms). */
  everyMs?: number;
  /**
   * A probe that throws is "not yet" and is polled again; the last error is
   * named at the deadline. By default a throw fails the wait at once (so an
   * `expect` inside the probe holds on every poll).
   */
  retryErrors?: boolean;
}

/**
 * Polls `probe` until it returns something other than undefined and resolves
 * with it; fails with "timed out waiting for <what>" at the deadline.
 */
export async function eventually<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, options: EventuallyOptions = {}): Promise<T> {
  const { timeoutMs = 20_000, everyMs = 25, retryErrors = false } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      if (!retryErrors) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError === undefined ? "" : `: ${String(lastError)}`}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
