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
