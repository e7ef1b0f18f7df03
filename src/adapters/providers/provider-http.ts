/**
 * One POST to a provider's HTTP API over keep-alive connections (node:http /
 * node:https Agents), answering what a sender must know besides the answer
 * itself: when there was none, whether the request can have reached the
 * provider — refused, DNS or connect timeout → it did not (`maybeSent:
 * false`, safe to send again); a timeout or reset after the request was
 * written → it may have been accepted (`maybeSent: true`, never resent
 * blindly).
 *
 * Node's keep-alive race (the server closes an idle connection just as a
 * request is written on it: ECONNRESET on a reused socket before any
 * answer) is retried once at once on a fresh connection — nothing can have
 * been read by the server then.
 *
 * Shared by the Graph API and Twilio clients, which differ only in the body,
 * the auth header and how an answer reads.
 */
import http from "node:http";
import https from "node:https";

export interface ProviderHttpOptions {
  /** The API's base URL (its path is kept as a prefix). */
  baseUrl: string;
  /** Whole call, from the request to the last byte of the answer. Default 10 s. */
  timeoutMs?: number;
  /** Until the connection is up; past it the request was never sent. Default 3 s. */
  connectTimeoutMs?: number;
  /** Connections kept per origin. */
  maxSockets: number;
}

export type RawPostResult =
  | { kind: "answer"; httpStatus: number; body: string }
  | { kind: "failed"; title: string; details: string; maybeSent: boolean }
  /** Reset twice on reused connections: the retry on a fresh one met the same race. */
  | { kind: "reset_on_reused_socket" };

const MAX_RESPONSE_BYTES = 1024 * 1024;
/** Idle connections are closed before a typical server's 5 s keep-alive timeout, which narrows the keep-alive race. */
const IDLE_SOCKET_MS = 4_000;

export class ProviderHttp {
  readonly base: URL;
  readonly timeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #agent: http.Agent;
  readonly #transport: typeof http | typeof https;

  constructor(options: ProviderHttpOptions) {
    this.base = new URL(options.baseUrl);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 3_000;
    const secure = this.base.protocol === "https:";
    this.#transport = secure ? https : http;
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, scheduling: "lifo" as const, timeout: IDLE_SOCKET_MS };
    this.#agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }

  /** `path` below the base URL's own path. */
  url(path: string): URL {
    return new URL(`${this.base.pathname.replace(/\/+$/, "")}${path}`, this.base);
  }

  /** POSTs `payload`; a reset on a reused keep-alive socket is tried once more on a fresh one. */
  async post(url: URL, payload: Buffer, headers: Record<string, string>, signal?: AbortSignal): Promise<RawPostResult> {
    const first = await this.#request(url, payload, headers, signal);
    return first.kind === "reset_on_reused_socket" ? this.#request(url, payload, headers, signal) : first;
  }

  /** Closes the idle keep-alive connections. */
  close(): void {
    this.#agent.destroy();
  }

  #request(url: URL, payload: Buffer, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<RawPostResult> {
    return new Promise((resolve) => {
      let connected = false;
      let settled = false;
      const settle = (result: RawPostResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(callTimer);
        clearTimeout(connectTimer);
        signal?.removeEventListener("abort", onAbort);
        resolve(result);
      };
      const request = this.#transport.request(url, {
        method: "POST",
        agent: this.#agent,
        headers: { ...headers, "content-length": payload.length, accept: "application/json" },
      });
      const fail = (title: string, details: string) => {
        settle({ kind: "failed", title, details, maybeSent: connected });
        request.destroy();
      };
      const callTimer = setTimeout(() => fail("Timeout", `no answer within ${this.timeoutMs} ms`), this.timeoutMs);
      const connectTimer = setTimeout(() => {
        if (!connected) fail("Connect timeout", `no connection within ${this.#connectTimeoutMs} ms`);
      }, this.#connectTimeoutMs);
      const onAbort = () => fail("Aborted", "the send was abandoned (shutdown)");
      if (signal?.aborted) return fail("Aborted", "the send was abandoned before it started");
      signal?.addEventListener("abort", onAbort, { once: true });

      request.on("socket", (socket) => {
        if (socket.connecting) socket.once("connect", () => (connected = true));
        else connected = true;
      });
      request.on("error", (error: NodeJS.ErrnoException) => {
        if (request.reusedSocket && error.code === "ECONNRESET") return settle({ kind: "reset_on_reused_socket" });
        fail("Network error", `${error.code ?? "error"}: ${error.message}`);
      });
      request.on("response", (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_RESPONSE_BYTES) chunks.push(chunk);
        });
        response.on("end", () => settle({ kind: "answer", httpStatus: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        response.on("error", (error) => fail("Network error", `answer cut off: ${error.message}`));
      });
      request.end(payload);
    });
  }
}
