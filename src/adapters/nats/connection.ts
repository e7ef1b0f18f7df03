/**
 * The process's one NATS connection, kept alive for as long as the service
 * runs: the first connect is retried in the background (the service starts
 * and serves without NATS — events wait in the outbox), and once connected
 * the client reconnects forever with capped exponential backoff. The state
 * feeds `/health/nats`; `close()` drains what is in flight.
 */
import { connect, type NatsConnection, type Status } from "@nats-io/transport-node";

import { Backoff, sleep } from "./backoff.js";
import { withTimeout } from "../shared/timeout.js";

export type NatsConnectionState = "connecting" | "connected" | "reconnecting" | "closed";

/** The subset of a pino logger this module uses. */
export interface NatsLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export interface NatsConnectionOptions {
  /** One URL or several separated by commas (config `NATS_URL`). */
  servers: string;
  /** Shown by the server's monitoring (`connz`). */
  name?: string;
  logger: NatsLogger;
  /** Delay between connection attempts; defaults 250 ms doubling to 3 s. */
  backoff?: { initialMs: number; maxMs: number };
  /** Handshake timeout per attempt (default 5 s). */
  connectTimeoutMs?: number;
  /** How long `close()` lets the drain run before closing hard (default 5 s). */
  drainTimeoutMs?: number;
}

const DEFAULT_BACKOFF = { initialMs: 250, maxMs: 3_000 };
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_DRAIN_TIMEOUT_MS = 5_000;
/**
 * A half-open TCP connection (peer gone without a FIN) is only noticed by
 * missed PINGs; the client's default (2 min × 2) would leave the relay
 * publishing into a dead socket for minutes.
 */
const PING_INTERVAL_MS = 10_000;
const MAX_PINGS_OUT = 2;

export interface NatsLink {
  readonly state: NatsConnectionState;
  /** The client once the first connect succeeded (the same object across reconnects); undefined before. */
  readonly connection: NatsConnection | undefined;
  /**
   * Resolves with the connection as soon as it is connected (at once if it
   * is). Resolves undefined if the link closes or `signal` aborts first.
   */
  whenConnected(signal?: AbortSignal): Promise<NatsConnection | undefined>;
  /**
   * Aborts when the current connection to a server ends (disconnect or
   * close); a new signal is made at each (re)connect. Requests in flight
   * when it aborts will never be answered: callers stop waiting for them.
   * Already aborted while not connected.
   */
  readonly session: AbortSignal;
  /** Drains in-flight publishes and subscriptions, then closes. Idempotent. */
  close(): Promise<void>;
}

/** Starts connecting in the background and returns at once. */
export function openNatsConnection(options: NatsConnectionOptions): NatsLink {
  return new ReconnectingNatsLink(options);
}

class ReconnectingNatsLink implements NatsLink {
  #state: NatsConnectionState = "connecting";
  #session = abortedController();
  #connection: NatsConnection | undefined;
  #waiters = new Set<() => void>();
  readonly #stopping = new AbortController();
  readonly #options: NatsConnectionOptions;
  readonly #backoff: Backoff;
  readonly #initialDelayMs: number;
  #closing: Promise<void> | undefined;
  #connecting: Promise<void>;
  #outageStartedAt: number | undefined;
  /** The client asks for its next reconnect delay on every turn of its dial loop; keep it stable per attempt. */
  #reconnectDelayMs: number;

  constructor(options: NatsConnectionOptions) {
    this.#options = options;
    this.#backoff = new Backoff(options.backoff ?? DEFAULT_BACKOFF);
    this.#initialDelayMs = (options.backoff ?? DEFAULT_BACKOFF).initialMs;
    this.#reconnectDelayMs = this.#initialDelayMs;
    this.#connecting = this.#connectUntilUp();
  }

  get state(): NatsConnectionState {
    return this.#state;
  }

  get connection(): NatsConnection | undefined {
    return this.#connection;
  }

  get session(): AbortSignal {
    return this.#session.signal;
  }

  whenConnected(signal?: AbortSignal): Promise<NatsConnection | undefined> {
    if (this.#state === "connected") return Promise.resolve(this.#connection);
    if (this.#state === "closed" || signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const settle = () => {
        this.#waiters.delete(settle);
        signal?.removeEventListener("abort", settle);
        resolve(this.#state === "connected" ? this.#connection : undefined);
      };
      this.#waiters.add(settle);
      signal?.addEventListener("abort", settle, { once: true });
    });
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#stopping.abort();
    await this.#connecting;
    const nc = this.#connection;
    if (nc && !nc.isClosed()) {
      // drain() flushes through the server; with the server gone it would wait for a reconnect that may never come.
      const drained = this.#state === "connected" ? withTimeout(nc.drain(), this.#options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS) : Promise.resolve();
      await drained.catch((error: unknown) => this.#options.logger.warn({ err: error }, "NATS drain did not finish; closing"));
      if (!nc.isClosed()) await nc.close();
    }
    this.#setState("closed");
  }

  async #connectUntilUp(): Promise<void> {
    const { logger } = this.#options;
    const servers = this.#options.servers.split(",").map((s) => s.trim());
    while (!this.#stopping.signal.aborted) {
      try {
        const nc = await connect({
          servers,
          name: this.#options.name ?? "whatsapp-service",
          timeout: this.#options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectDelayHandler: () => this.#reconnectDelayMs,
          pingInterval: PING_INTERVAL_MS,
          maxPingOut: MAX_PINGS_OUT,
        });
        if (this.#stopping.signal.aborted) {
          await nc.close();
          return;
        }
        this.#connection = nc;
        this.#watch(nc);
        logger.info({ server: nc.getServer(), attempts: this.#backoff.failures + 1 }, "connected to NATS");
        this.#backoff.reset();
        this.#setState("connected");
        return;
      } catch (error) {
        const delayMs = this.#backoff.next();
        // Once per outage, not once per attempt: the state is on /health/nats.
        if (this.#backoff.failures === 1) {
          logger.warn({ err: error, servers: this.#options.servers }, "NATS is not reachable; retrying in the background (events wait in the outbox)");
        }
        await sleep(delayMs, this.#stopping.signal);
      }
    }
  }

  /** Follows the client's status events: they drive the state, the logs and the reconnect delay. */
  #watch(nc: NatsConnection): void {
    const { logger } = this.#options;
    void (async () => {
      for await (const status of nc.status()) this.#onStatus(status);
    })().catch((error: unknown) => logger.error({ err: error }, "NATS status watcher failed"));
    void nc.closed().then((error) => {
      if (this.#stopping.signal.aborted) {
        this.#setState("closed");
        return;
      }
      // The client gives up only on errors it deems fatal (e.g. the same auth
      // error twice); we promised to keep trying, so start over with a new client.
      logger.error({ err: error }, "NATS connection closed by the client; connecting again");
      this.#connection = undefined;
      this.#setState("reconnecting");
      this.#connecting = this.#connectUntilUp();
    });
  }

  #onStatus(status: Status): void {
    const { logger } = this.#options;
    switch (status.type) {
      case "disconnect":
        if (this.#outageStartedAt === undefined) {
          this.#outageStartedAt = Date.now();
          this.#backoff.reset();
          logger.warn({ server: status.server }, "NATS connection lost; reconnecting");
        }
        if (this.#state !== "closed") this.#setState("reconnecting");
        break;
      case "reconnecting":
        // One dial attempt is starting; the next one (if this fails) waits longer.
        if (this.#outageStartedAt !== undefined) this.#reconnectDelayMs = this.#backoff.next();
        break;
      case "reconnect":
        logger.info(
          { server: status.server, outageMs: this.#outageStartedAt === undefined ? 0 : Date.now() - this.#outageStartedAt, attempts: this.#backoff.failures },
          "NATS reconnected",
        );
        this.#outageStartedAt = undefined;
        this.#backoff.reset();
        this.#reconnectDelayMs = this.#initialDelayMs;
        this.#setState("connected");
        break;
      case "error":
        logger.warn({ err: status.error }, "NATS server reported an error");
        break;
      default:
        break;
    }
  }

  #setState(state: NatsConnectionState): void {
    if (this.#state === "closed") return;
    if (state === "connected" && this.#session.signal.aborted) this.#session = new AbortController();
    if (state !== "connected") this.#session.abort(new Error(`NATS connection ${state}`));
    this.#state = state;
    if (state === "connected" || state === "closed") for (const settle of [...this.#waiters]) settle();
  }
}

function abortedController(): AbortController {
  const controller = new AbortController();
  controller.abort(new Error("NATS not connected yet"));
  return controller;
}

