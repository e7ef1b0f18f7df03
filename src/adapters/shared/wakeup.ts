/**
 * A level-triggered wake-up for background loops: `notify()` after committing
 * work (an inbox row, an outbox event) makes the loop look now instead of at
 * its next poll. Notifications while nobody waits are remembered (one bit),
 * so work committed between two looks is never slept through.
 */
export class Wakeup {
  #pending = false;
  #waiters: (() => void)[] = [];

  notify(): void {
    this.#pending = true;
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves on the next notify (or at once if one is pending), after `timeoutMs`, or on abort. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#pending || signal?.aborted) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.#waiters = this.#waiters.filter((w) => w !== done);
        this.#pending = false;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener("abort", done, { once: true });
      this.#waiters.push(done);
    });
  }
}
