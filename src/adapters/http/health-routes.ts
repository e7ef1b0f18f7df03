import type { AnyRequest, AnyResponse } from "./json.js";
import { sendJson } from "./json.js";
import { withTimeout } from "../shared/timeout.js";

export interface HealthProbes {
  /** False once SIGTERM started the drain: load balancers stop sending traffic. */
  serving: () => boolean;
  /** Throws when the database cannot answer a trivial query. */
  pingDatabase: () => Promise<void>;
  /**
   * The database state the gRPC health follows (probed every few hundred ms through the request pool); when
   * given, `/health/db` reports it instead of pinging, so both health surfaces say the same thing.
   */
  databaseState?: () => { reachable: boolean; latencyMs: number | undefined };
  databaseKind: "postgres" | "pglite";
  /** Live accounts per status (`active`, `degraded`, `disabled`): what `/health/whatsapp` reports on. */
  accountStatuses?: () => Promise<Record<string, number>>;
  /** The NATS connection's state; absent or "disabled" when NATS_URL is not set. */
  natsState?: () => NatsHealthState;
}

/** What `/health/nats` reports on: the connection's state (see adapters/nats/connection.ts), or "disabled". */
export type NatsHealthState = "disabled" | "connecting" | "connected" | "reconnecting" | "closed";

const DB_PING_TIMEOUT_MS = 2_000;

/**
 * Plain JSON health endpoints for load balancers and people (`curl
 * /health/db`); gRPC callers use grpc.health.v1 instead. Returns false when
 * the path is not one of ours.
 */
export async function serveHealth(req: AnyRequest, res: AnyResponse, probes: HealthProbes): Promise<boolean> {
  const path = (req.url ?? "").split("?")[0];
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  switch (path) {
    case "/health":
      sendJson(res, probes.serving() ? 200 : 503, { status: probes.serving() ? "ok" : "draining" });
      return true;
    case "/health/db": {
      const known = probes.databaseState?.();
      if (known !== undefined) {
        if (known.reachable) sendJson(res, 200, { status: "ok", database: probes.databaseKind, latencyMs: known.latencyMs ?? 0 });
        else sendJson(res, 503, { status: "unavailable", database: probes.databaseKind });
        return true;
      }
      const started = performance.now();
      try {
        await withTimeout(probes.pingDatabase(), DB_PING_TIMEOUT_MS);
        sendJson(res, 200, { status: "ok", database: probes.databaseKind, latencyMs: Math.round(performance.now() - started) });
      } catch {
        // The reason goes to the logs of whoever watches the database, not to an unauthenticated caller.
        sendJson(res, 503, { status: "unavailable", database: probes.databaseKind });
      }
      return true;
    }
    case "/health/nats": {
      const state = probes.natsState?.() ?? "disabled";
      // No NATS_URL is a supported mode (events wait in the outbox), not a failure.
      if (state === "disabled") sendJson(res, 200, { status: "disabled" });
      else if (state === "connected") sendJson(res, 200, { status: "ok" });
      else sendJson(res, 503, { status: "unavailable", state });
      return true;
    }
    case "/health/whatsapp": {
      // SPEC §3: provider side. An account the provider refused (token expired, number blocked) is `degraded` and its
      // queue paused; that is the account's trouble, not this replica's, so the answer stays 200 and says so. Only
      // not knowing (the database does not answer) is a 503.
      if (probes.accountStatuses === undefined) {
        sendJson(res, 200, { status: "unknown" });
        return true;
      }
      try {
        const accounts = await withTimeout(probes.accountStatuses(), DB_PING_TIMEOUT_MS);
        const degraded = accounts.degraded ?? 0;
        sendJson(res, 200, { status: degraded > 0 ? "degraded" : "ok", accounts });
      } catch {
        sendJson(res, 503, { status: "unavailable" });
      }
      return true;
    }
    default:
      return false;
  }
}

