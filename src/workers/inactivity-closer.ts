/**
 * The inactivity job: closes open conversations with no activity (no
 * message either way, nor their opening) for longer than the tenant's
 * timeout (tenant_settings.inactivity_timeout_seconds, else the service
 * default), each with close_reason `inactivity` and a conversation.closed
 * event in the same transaction. The contact's next message then opens a
 * new conversation.
 *
 * Safe with any number of replicas running it at once: each batch takes its
 * conversations `FOR UPDATE SKIP LOCKED` — two sweeps never close the same
 * conversation (nor publish its event twice), and a conversation that a
 * message is being added to right now (locked by findOrOpenConversation)
 * is skipped this round. The update re-checks `status <> 'closed'`.
 *
 * Tenants are visited one after another, one short transaction per batch
 * (the inactive conversations port; adapters/postgres
 * inactive-conversations.ts holds the statements).
 */
import type { Log } from "../ports/log.js";
import type { InactiveConversations } from "../ports/inactive-conversations.js";
import { Wakeup } from "../adapters/shared/wakeup.js";

export interface InactivityCloserOptions {
  conversations: InactiveConversations;
  logger: Log;
  newId: () => string;
  now: () => Date;
  /** Timeout for tenants that set none (CONVERSATION_INACTIVITY_TIMEOUT_SECONDS). */
  defaultTimeoutSeconds: number;
  /** Pause between sweeps (INACTIVITY_SWEEP_INTERVAL_MS). */
  intervalMs: number;
  /** Conversations closed per transaction. Default 200. */
  batchSize?: number;
  /** Called after a commit that wrote events (wakes the outbox relay). */
  onEventsCommitted?: () => void;
}

const DEFAULT_BATCH_SIZE = 200;

export class InactivityCloser {
  readonly #options: InactivityCloserOptions;
  readonly #batchSize: number;
  readonly #wakeup = new Wakeup();
  #abort: AbortController | undefined;
  #running: Promise<void> | undefined;

  constructor(options: InactivityCloserOptions) {
    this.#options = options;
    this.#batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  }

  /** Sweeps now, then every `intervalMs`, until stopped. */
  start(): void {
    if (this.#running) return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#running = this.#loop(abort.signal);
  }

  /** Finishes the sweep in progress (its transactions commit or roll back) and stops. */
  async stop(): Promise<void> {
    this.#abort?.abort();
    await this.#running;
    this.#running = undefined;
  }

  /** Sweeps every tenant once; the number of conversations closed. */
  async sweep(): Promise<number> {
    const tenantIds = await this.#options.conversations.tenantIds();
    let closed = 0;
    for (const id of tenantIds) {
      if (this.#abort?.signal.aborted) break;
      try {
        closed += await this.sweepTenant(id);
      } catch (error) {
        this.#options.logger.error({ err: error, tenant: id }, "inactivity sweep failed for a tenant");
      }
    }
    return closed;
  }

  /** Closes the tenant's idle conversations, batch by batch; how many. */
  async sweepTenant(tenantId: string): Promise<number> {
    let total = 0;
    for (;;) {
      const closed = await this.#options.conversations.closeIdleBatch(tenantId, {
        defaultTimeoutSeconds: this.#options.defaultTimeoutSeconds,
        batchSize: this.#batchSize,
        now: this.#options.now(),
        newId: this.#options.newId,
      });
      if (closed > 0) this.#options.onEventsCommitted?.();
      total += closed;
      if (closed < this.#batchSize || this.#abort?.signal.aborted) return total;
    }
  }

  async #loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const closed = await this.sweep();
        if (closed > 0) this.#options.logger.info({ closed }, "closed inactive conversations");
      } catch (error) {
        this.#options.logger.error({ err: error }, "inactivity sweep failed");
      }
      await this.#wakeup.wait(this.#options.intervalMs, signal);
    }
  }
}
