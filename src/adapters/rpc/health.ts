// gRPC health checking (grpc.health.v1.Health) for connect-node.
// Semantics follow https://github.com/grpc/grpc/blob/master/doc/health-checking.md
// and grpc-go's health.Server.
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { type Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../../gen/grpc/health/v1/health_pb.js";

/** The name under which the whole server's health is kept. */
export const SERVER_HEALTH = "";

type Listener = (event: ServingStatus | "closed") => void;

/**
 * The serving status of each service (`""` = the whole server). Starts with
 * the server SERVING, as grpc-go does, unless `initial` says otherwise.
 */
export class HealthStatus {
  readonly #statuses: Map<string, ServingStatus>;
  readonly #listeners = new Map<string, Set<Listener>>();
  #shutDown = false;

  constructor(initial: Readonly<Record<string, ServingStatus>> = { [SERVER_HEALTH]: ServingStatus.SERVING }) {
    this.#statuses = new Map(Object.entries(initial));
  }

  /** Sets a service's status and notifies its watchers. Ignored after `shutdown()`. */
  set(service: string, status: ServingStatus): void {
    if (this.#shutDown) return;
    this.#update(service, status);
  }

  /** The service's status, or undefined when the service is unknown. */
  get(service: string): ServingStatus | undefined {
    return this.#statuses.get(service);
  }

  /** A snapshot of every known service and its status. */
  entries(): [service: string, status: ServingStatus][] {
    return [...this.#statuses];
  }

  /**
   * Marks every service NOT_SERVING, ignores later `set` calls and ends every
   * Watch once it has delivered NOT_SERVING. Called when draining on SIGTERM.
   */
  shutdown(): void {
    for (const service of this.#statuses.keys()) this.#update(service, ServingStatus.NOT_SERVING);
    this.#shutDown = true;
    for (const listeners of this.#listeners.values()) for (const listener of listeners) listener("closed");
  }

  /**
   * Yields the service's current status (SERVICE_UNKNOWN if unknown), then
   * each change; a slow reader gets the latest status, never a stale one.
   * Returns when `signal` aborts, or after shutdown.
   */
  async *watch(service: string, signal: AbortSignal): AsyncGenerator<ServingStatus, void, undefined> {
    let pending: ServingStatus | undefined;
    let closed = this.#shutDown;
    let wake: (() => void) | undefined;
    const listener: Listener = (event) => {
      if (event === "closed") closed = true;
      else pending = event;
      wake?.();
    };
    const onAbort = (): void => wake?.();
    const listeners = this.#listeners.get(service) ?? new Set<Listener>();
    this.#listeners.set(service, listeners);
    listeners.add(listener);
    signal.addEventListener("abort", onAbort);
    try {
      let last = this.get(service) ?? ServingStatus.SERVICE_UNKNOWN;
      yield last;
      for (;;) {
        if (signal.aborted) return;
        if (pending !== undefined) {
          const next = pending;
          pending = undefined;
          if (next !== last) {
            last = next;
            yield next;
          }
          continue;
        }
        if (closed) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      listeners.delete(listener);
      if (listeners.size === 0 && this.#listeners.get(service) === listeners) this.#listeners.delete(service);
    }
  }

  #update(service: string, status: ServingStatus): void {
    this.#statuses.set(service, status);
    for (const listener of this.#listeners.get(service) ?? []) listener(status);
  }
}

/** The grpc.health.v1.Health implementation: `router.service(Health, createHealthService(status))`. */
export function createHealthService(status: HealthStatus): ServiceImpl<typeof Health> {
  return {
    check(request) {
      const current = status.get(request.service);
      if (current === undefined) throw new ConnectError(`unknown service: ${request.service}`, Code.NotFound);
      return { status: current };
    },
    list() {
      return { statuses: Object.fromEntries(status.entries().map(([service, s]) => [service, { status: s }])) };
    },
    async *watch(request, context) {
      for await (const s of status.watch(request.service, context.signal)) yield { status: s };
    },
  };
}
