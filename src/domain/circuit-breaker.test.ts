import { describe, expect, it } from "vitest";

import { admission, CLOSED_CIRCUIT, probeTaken, recordResults } from "./circuit-breaker.js";

const settings = { failureThreshold: 3, openMs: 1_000, probeTimeoutMs: 5_000 };

describe("circuit breaker", () => {
  it("when faults reach the threshold in a row, then it opens until openMs has passed", () => {
    const open = recordResults(CLOSED_CIRCUIT, ["fault", "fault", "fault"], 100, settings);
    expect(open).toEqual({ state: "open", failures: 3, openUntil: 1_100 });
    expect(admission(open, 1_099)).toBe("none");
    expect(admission(open, 1_100)).toBe("probe");
  });

  it("when a success comes between faults, then the count starts again", () => {
    const state = recordResults(CLOSED_CIRCUIT, ["fault", "fault", "success", "fault", "fault"], 0, settings);
    expect(state).toEqual({ state: "closed", failures: 2, openUntil: null });
  });

  it("when throttles or refusals of one message come, then they do not count", () => {
    expect(recordResults(CLOSED_CIRCUIT, ["neutral", "neutral", "neutral", "neutral"], 0, settings)).toEqual(CLOSED_CIRCUIT);
  });

  it("when the probe succeeds, then it closes; when it fails, then it opens again", () => {
    const open = recordResults(CLOSED_CIRCUIT, ["fault", "fault", "fault"], 0, settings);
    const probing = probeTaken(open, 2_000, settings);
    expect(probing).toEqual({ state: "half_open", failures: 3, openUntil: 7_000 });
    expect(admission(probing, 3_000)).toBe("none");
    expect(recordResults(probing, ["success"], 3_000, settings)).toEqual(CLOSED_CIRCUIT);
    expect(recordResults(probing, ["fault"], 3_000, settings)).toEqual({ state: "open", failures: 4, openUntil: 4_000 });
  });

  it("when a probe never reports, then another is allowed after its deadline", () => {
    const probing = probeTaken({ state: "open", failures: 3, openUntil: 0 }, 0, settings);
    expect(admission(probing, 5_000)).toBe("probe");
  });
});
