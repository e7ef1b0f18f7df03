import { describe, expect, it } from "vitest";

import type { AnyRequest, AnyResponse } from "./json.js";
import { serveHealth, type HealthProbes, type NatsHealthState } from "./health-routes.js";

/** Just enough of a Node response to capture what `sendJson` writes. */
function recordingResponse() {
  const sent: { status?: number; body?: unknown } = {};
  const res = {
    writeHead(status: number) {
      sent.status = status;
      return res;
    },
    end(text: string) {
      sent.body = JSON.parse(text);
    },
  };
  return { res: res as unknown as AnyResponse, sent };
}

async function getNatsHealth(natsState?: () => NatsHealthState) {
  const probes: HealthProbes = { serving: () => true, pingDatabase: async () => {}, databaseKind: "postgres", ...(natsState ? { natsState } : {}) };
  const { res, sent } = recordingResponse();
  const served = await serveHealth({ method: "GET", url: "/health/nats" } as AnyRequest, res, probes);
  return { served, ...sent };
}

describe("/health/nats", () => {
  it("when NATS is connected, then it answers 200 ok", async () => {
    expect(await getNatsHealth(() => "connected")).toEqual({ served: true, status: 200, body: { status: "ok" } });
  });

  it.each(["connecting", "reconnecting", "closed"] as const)("when NATS is %s, then it answers 503 with the state", async (state) => {
    expect(await getNatsHealth(() => state)).toEqual({ served: true, status: 503, body: { status: "unavailable", state } });
  });

  it("when NATS is not configured, then it answers 200 disabled (events wait in the outbox by design)", async () => {
    expect(await getNatsHealth(() => "disabled")).toEqual({ served: true, status: 200, body: { status: "disabled" } });
    expect(await getNatsHealth()).toEqual({ served: true, status: 200, body: { status: "disabled" } });
  });
});

async function get(path: string, extra: Partial<HealthProbes>) {
  const probes: HealthProbes = { serving: () => true, pingDatabase: async () => {}, databaseKind: "postgres", ...extra };
  const { res, sent } = recordingResponse();
  await serveHealth({ method: "GET", url: path } as AnyRequest, res, probes);
  return sent;
}

describe("/health/db and /health/whatsapp", () => {
  it("when the database monitor says unreachable, then /health/db answers 503 without pinging", async () => {
    let pinged = false;
    const sent = await get("/health/db", { pingDatabase: async () => void (pinged = true), databaseState: () => ({ reachable: false, latencyMs: undefined }) });
    expect(sent).toEqual({ status: 503, body: { status: "unavailable", database: "postgres" } });
    expect(pinged).toBe(false);
  });

  it("when an account is degraded, then /health/whatsapp answers 200 degraded with the counts; when the database does not answer, 503", async () => {
    expect(await get("/health/whatsapp", { accountStatuses: async () => ({ active: 2, degraded: 1 }) })).toEqual({
      status: 200,
      body: { status: "degraded", accounts: { active: 2, degraded: 1 } },
    });
    expect(await get("/health/whatsapp", { accountStatuses: async () => ({ active: 2 }) })).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(await get("/health/whatsapp", { accountStatuses: () => Promise.reject(new Error("down")) })).toEqual({ status: 503, body: { status: "unavailable" } });
  });
});
