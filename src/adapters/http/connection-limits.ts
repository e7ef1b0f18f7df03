/**
 * Time and count limits for the one port.
 *
 * Node's own `headersTimeout` / `requestTimeout` are enforced by a sweep that
 * runs every `connectionsCheckingInterval` (30 s) and only for servers that
 * `listen()` themselves; the one-port server hands sockets to inner servers
 * that never listen, so none of it runs. These limits are enforced by our own
 * timers, one per connection or request, armed and cleared at the moments
 * below:
 *
 * | limit | starts | stops | when it fires |
 * | --- | --- | --- | --- |
 * | headers | connection accepted; HTTP/1.1: the next request may begin (keep-alive idle ends) | the request's headers are parsed (HTTP/1.1) / the preface is read (HTTP/2) | HTTP/1.1 with bytes read: 408 then close; otherwise close |
 * | request | a request's headers are parsed | its body has been received, or its response is done | 408 when no answer started yet, then close; otherwise the request is reset |
 * | keep-alive | an HTTP/1.1 connection has no request in flight | the next request's headers are parsed | close |
 * | HTTP/2 idle | an HTTP/2 session has no open stream | a stream opens | GOAWAY and close |
 *
 * The request limit covers receiving the request, not producing the answer:
 * a server stream (WatchEvents) whose small request arrived at once runs as
 * long as it likes, and handlers bound their own work (the webhook waits a
 * bounded time for its commit).
 */
export interface ConnectionLimits {
  /** Time from accepting a connection (or from a keep-alive connection going idle) to a complete request head. */
  headersTimeoutMs: number;
  /** Time from a request's head to the end of its body. 0 = no limit. */
  requestTimeoutMs: number;
  /** An HTTP/1.1 connection with no request in flight is closed after this. */
  keepAliveTimeoutMs: number;
  /** An HTTP/2 session with no open stream is closed after this. */
  http2IdleTimeoutMs: number;
  /** Connections held at once; further ones are closed as soon as they are accepted. */
  maxConnections: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  // Above the 60 s idle timeout of common load balancers, so they close first (no race on a reused connection).
  keepAliveTimeoutMs: 65_000,
  http2IdleTimeoutMs: 120_000,
  maxConnections: 10_000,
};

/** A restartable one-shot timer that never keeps the process alive. */
export class Deadline {
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly onExpire: () => void) {}

  /** (Re)arms the timer; `ms <= 0` disarms it. */
  arm(ms: number): void {
    this.clear();
    if (ms <= 0) return;
    this.#timer = setTimeout(this.onExpire, ms);
    this.#timer.unref();
  }

  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** What a client that took too long to send its request head gets on HTTP/1.1 (Node's own answer, byte for byte). */
export const REQUEST_TIMEOUT_RESPONSE = Buffer.from("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
