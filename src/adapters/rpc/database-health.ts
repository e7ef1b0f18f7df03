/**
 * gRPC health that follows the database: every service this process serves
 * needs PostgreSQL to do anything, so while it cannot answer, the whole server
 * and each whatsapp.v1 service report NOT_SERVING (load balancers and gRPC
 * clients with health checking route elsewhere), and SERVING again once it can.
 *
 * The probe is a `select 1` through the same pool the requests use, every
 * `intervalMs`, with a timeout below it: a database that stops answering is
 * reported within intervalMs + timeoutMs (1.5 s with the defaults). A pool so
 * busy that `select 1` waits that long cannot commit requests in time either,
 * which is what the status should say. `/health/db` reports the same state.
 */
import { HealthCheckResponse_ServingStatus as ServingStatus } from "../../../gen/grpc/health/v1/health_pb.js";
import { AccountService } from "../../../gen/whatsapp/v1/account_pb.js";
import { ConversationService } from "../../../gen/whatsapp/v1/conversation_pb.js";
import { MessagingService } from "../../../gen/whatsapp/v1/messaging_pb.js";
import { OtpService } from "../../../gen/whatsapp/v1/otp_pb.js";
import { TemplateService } from "../../../gen/whatsapp/v1/template_pb.js";
import { SERVER_HEALTH, type HealthStatus } from "./health.js";

/** The names health Check knows: the whole server ("") and the five API services. */
export const HEALTH_SERVICES: readonly string[] = [
  SERVER_HEALTH,
  AccountService.typeName,
  MessagingService.typeName,
  ConversationService.typeName,
  TemplateService.typeName,
  OtpService.typeName,
];

export interface DatabaseHealthOptions {
  health: HealthStatus;
  /** Rejects when the database did not answer within `timeoutMs`. */
  ping: (timeoutMs: number) => Promise<void>;
  intervalMs: number;
  logger: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export interface DatabaseState {
  reachable: boolean;
  /** Round trip of the last successful probe. */
  latencyMs: number | undefined;
  /** When the state was last established (ms since epoch). */
  checkedAt: number;
}

export interface DatabaseHealth {
  state(): DatabaseState;
  /** Stops probing (the statuses stay as they are; shutdown marks them NOT_SERVING). */
  stop(): Promise<void>;
}

export function startDatabaseHealth(options: DatabaseHealthOptions): DatabaseHealth {
  const { health, ping, intervalMs, logger } = options;
  // Twice the interval, at most 1 s: one probe in flight at a time, and a dead database is seen quickly.
  const timeoutMs = Math.max(50, Math.min(1_000, Math.floor(intervalMs * 2)));
  let state: DatabaseState = { reachable: true, latencyMs: undefined, checkedAt: Date.now() };
  for (const service of HEALTH_SERVICES) health.set(service, ServingStatus.SERVING);

  let stopped = false;
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const loop = (async () => {
    while (!stopped) {
      const started = performance.now();
      let reachable: boolean;
      let error: unknown;
      try {
        await ping(timeoutMs);
        reachable = true;
      } catch (e) {
        reachable = false;
        error = e;
      }
      if (stopped) return;
      if (reachable !== state.reachable) {
        if (reachable) logger.info({}, "database reachable again: health SERVING");
        else logger.warn({ err: error }, "database unreachable: health NOT_SERVING");
        for (const service of HEALTH_SERVICES) health.set(service, reachable ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
      }
      state = { reachable, latencyMs: reachable ? Math.round(performance.now() - started) : undefined, checkedAt: Date.now() };
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, intervalMs);
      });
    }
  })();

  return {
    state: () => state,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      wake?.();
      await loop;
    },
  };
}
