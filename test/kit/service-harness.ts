/**
 * The setup most integration files share, once: (optionally) a Graph API
 * simulator, the real service on a fresh database pointed at it, a direct
 * connection to that database for reads the API does not offer, and the
 * teardown in the right order (client sessions, the pool, the service and
 * its database, the simulator).
 *
 *   const harness = useServiceHarness({ graphSimulator: true, env: { WORKERS: "inbox" } });
 *   it("…", async () => { await harness.sql`…`; harness.simulator.requests … });
 */
import postgres from "postgres";
import { afterAll, beforeAll } from "vitest";

import { GraphSimulator } from "../support/graph-simulator.js";
import { closeClientSessions, startTestService, type TestService, type TestServiceOptions } from "../support/service.js";

export interface ServiceHarnessOptions extends TestServiceOptions {
  /** Start a Graph API simulator first and point the service at it (WHATSAPP_GRAPH_URL). */
  graphSimulator?: boolean;
  /** Connections of the test's own pool to the service's database (default 2). */
  sqlConnections?: number;
}

export interface ServiceHarness {
  svc: TestService;
  /** The test's own connection to the service's database. */
  sql: postgres.Sql;
  /** The Graph API simulator (only with `graphSimulator: true`). */
  simulator: GraphSimulator;
  /** `http://127.0.0.1:<port>` of the service. */
  url: string;
  cleanup(): Promise<void>;
}

export async function startServiceHarness(options: ServiceHarnessOptions = {}): Promise<ServiceHarness> {
  const { graphSimulator, sqlConnections = 2, ...service } = options;
  const simulator = graphSimulator ? await GraphSimulator.start() : undefined;
  let svc: TestService;
  try {
    svc = await startTestService({ ...service, env: { ...(simulator ? { WHATSAPP_GRAPH_URL: simulator.url } : {}), ...service.env } });
  } catch (error) {
    await simulator?.close();
    throw error;
  }
  const sql = postgres(svc.database.url, { max: sqlConnections, onnotice: () => {} });
  return {
    svc,
    sql,
    get simulator(): GraphSimulator {
      if (!simulator) throw new Error("no Graph API simulator: start the harness with graphSimulator: true");
      return simulator;
    },
    url: svc.service.url,
    async cleanup() {
      closeClientSessions();
      await sql.end({ timeout: 5 });
      await svc.cleanup();
      await simulator?.close();
    },
  };
}

/**
 * `startServiceHarness` in the file's beforeAll, `cleanup` in its afterAll.
 * The returned object's fields may be read from inside hooks and tests.
 */
export function useServiceHarness(options: ServiceHarnessOptions = {}): ServiceHarness {
  let started: ServiceHarness | undefined;
  beforeAll(async () => {
    started = await startServiceHarness(options);
  });
  afterAll(async () => {
    await started?.cleanup();
  });
  const current = (): ServiceHarness => {
    if (!started) throw new Error("the service harness is used before its beforeAll ran");
    return started;
  };
  return {
    get svc() {
      return current().svc;
    },
    get sql() {
      return current().sql;
    },
    get simulator() {
      return current().simulator;
    },
    get url() {
      return current().url;
    },
    cleanup: () => current().cleanup(),
  };
}
