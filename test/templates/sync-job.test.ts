/**
 * The periodic template sync (`scheduler` worker, TEMPLATE_SYNC_INTERVAL_SECONDS)
 * with two replicas of the service on one database: a change made on Meta's
 * side with no webhook (approved, deleted, rejected) is picked up by the job
 * alone and applied once — one `template.status` per change, whichever
 * replica swept; when one replica stops, the other sweeps.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { TemplateStatus } from "../../gen/whatsapp/v1/template_pb.js";
import { TEMPLATE_SYNC_JOB } from "../../src/adapters/postgres/stores/template-sync-schedule.js";
import { GraphSimulator } from "../support/graph-simulator.js";
import { closeClientSessions, startTestService, type TestService } from "../support/service.js";
import { APP_SECRET, metaAccount, orderTemplate, templateEvents, tenant } from "./harness.js";
import { eventually } from "../kit/eventually.js";

let replicaA: TestService;
let replicaB: TestService;
let simulator: GraphSimulator;
let sql: postgres.Sql;

beforeAll(async () => {
  simulator = await GraphSimulator.start();
  const env = { META_APP_SECRET: APP_SECRET, WHATSAPP_GRAPH_URL: simulator.url, WORKERS: "inbox,scheduler", TEMPLATE_SYNC_INTERVAL_SECONDS: "1" };
  replicaA = await startTestService({ env });
  replicaB = await startTestService({ env, database: replicaA.database });
  sql = postgres(replicaA.database.url, { max: 2, onnotice: () => {} });
});

afterAll(async () => {
  closeClientSessions();
  await sql?.end({ timeout: 5 });
  await replicaB?.stop();
  await replicaA?.cleanup();
  await simulator?.close();
});

/** The job's changes show within a few sweeps; the deadline is generous for a loaded machine. */
const SWEEP_DEADLINE_MS = 30_000;

function listCalls(wabaId: string): number {
  return simulator.templateCalls.filter((c) => c.method === "GET" && c.path.startsWith(`/v23.0/${wabaId}/message_templates`)).length;
}

// Each step below waits at most SWEEP_DEADLINE_MS; a test takes several steps, more than vitest's default.
const TEST_TIMEOUT_MS = 3 * SWEEP_DEADLINE_MS;

describe("periodic template sync", () => {
  it("when Meta approves one template and deletes another without a webhook, then the job alone applies each once: one template.status each, with two replicas running it", { timeout: TEST_TIMEOUT_MS }, async () => {
    const t = tenant(replicaA.service.url, "tpl-sync-job");
    const account = await metaAccount(t);
    const { template: approved } = await t.templates.createTemplate(orderTemplate(account.id));
    const { template: deleted } = await t.templates.createTemplate(orderTemplate(account.id));

    // Meta's side changes; no webhook, no SyncTemplates call.
    simulator.templates.find((s) => s.id === approved!.metaTemplateId)!.status = "APPROVED";
    simulator.templates.splice(
      simulator.templates.findIndex((s) => s.id === deleted!.metaTemplateId),
      1,
    );

    const now = await eventually("the sweep to approve the template", async () => {
      const { template } = await t.templates.getTemplate({ templateId: approved!.id });
      return template!.status === TemplateStatus.APPROVED ? template : undefined;
    }, { timeoutMs: SWEEP_DEADLINE_MS });
    expect(now).toMatchObject({ version: 1, approvedVersion: 1 });
    const gone = await eventually("the sweep to delete the template", () => t.templates.getTemplate({ templateId: deleted!.id }).then(() => undefined, (e: unknown) => ConnectError.from(e)), { timeoutMs: SWEEP_DEADLINE_MS });
    expect(gone.code).toBe(Code.NotFound);

    // More sweeps after the change: they find nothing new.
    const sweepsSoFar = listCalls(account.wabaId);
    await eventually("two more sweeps", async () => (listCalls(account.wabaId) >= sweepsSoFar + 2 ? true : undefined), { timeoutMs: SWEEP_DEADLINE_MS });

    const events = (await templateEvents(sql, t.id)).map((e) => [e.templateId, e.status, e.previousStatus, e.providerEvent]);
    expect(events.sort()).toEqual(
      [
        [approved!.id, TemplateStatus.APPROVED, TemplateStatus.PENDING, "SYNC"],
        [deleted!.id, TemplateStatus.DELETED, TemplateStatus.PENDING, "SYNC"],
      ].sort(),
    );
    // One sweep row, shared by the replicas.
    const jobs = await sql<{ n: number }[]>`select count(*)::int as n from control.jobs where kind = ${TEMPLATE_SYNC_JOB}`;
    expect(jobs[0]!.n).toBe(1);
  });

  it("when the replica that swept stops, then the other one sweeps: a later change at Meta is applied once", { timeout: TEST_TIMEOUT_MS }, async () => {
    const t = tenant(replicaB.service.url, "tpl-sync-failover");
    const account = await metaAccount(t);
    const { template } = await t.templates.createTemplate(orderTemplate(account.id));
    await replicaA.stop();

    const at = simulator.templates.find((s) => s.id === template!.metaTemplateId)!;
    at.status = "REJECTED";
    at.rejected_reason = "INVALID_FORMAT";
    const now = await eventually("the sweep to reject the template", async () => {
      const { template: current } = await t.templates.getTemplate({ templateId: template!.id });
      return current!.status === TemplateStatus.REJECTED ? current : undefined;
    }, { timeoutMs: SWEEP_DEADLINE_MS });
    expect(now!.rejectedReason).toBe("INVALID_FORMAT");
    const sweepsSoFar = listCalls(account.wabaId);
    await eventually("two more sweeps", async () => (listCalls(account.wabaId) >= sweepsSoFar + 2 ? true : undefined), { timeoutMs: SWEEP_DEADLINE_MS });
    expect((await templateEvents(sql, t.id)).map((e) => [e.status, e.reason, e.providerEvent])).toEqual([[TemplateStatus.REJECTED, "INVALID_FORMAT", "SYNC"]]);
  });
});
