import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { GraphSimulator } from "../support/graph-simulator.js";
import type { TestService } from "../support/service.js";
import { createAccount, queueMessages, recipient, settled, startOutboundService } from "./support/outbound-harness.js";

/**
 * Acceptance 3 of issue 4: an account at 80/s with 1,000 messages queued —
 * the simulator (which refuses with 130429 beyond 80 in a sliding second)
 * never sees more than 80 in any second, with one process and with two.
 */
describe("per-account pacing", () => {
  let simulator: GraphSimulator;
  let first: TestService;
  let second: TestService;

  beforeAll(async () => {
    simulator = await GraphSimulator.start({ throughputPerSecond: 80 });
    first = await startOutboundService({ simulator });
    second = await startOutboundService({ simulator, database: first.database });
  });
  afterAll(async () => {
    await second?.stop();
    await first?.cleanup();
    await simulator?.close();
  });

  it("when 1,000 messages wait for an account at 80/s, then no second sees more than 80 and none is refused", { timeout: 60_000 }, async () => {
    await second.stop();
    const app = first.service.app;
    const account = await createAccount(app, { rate: 80 });
    const ids = await queueMessages(app, account, Array.from({ length: 1_000 }, () => ({ to: recipient() })));
    const states = await settled(app.database.db, account.tenantId, ids, 40_000);

    expect(states.every((s) => s.status === "sent")).toBe(true);
    expect(simulator.maxInAnySecond(account.phoneNumberId)).toBeLessThanOrEqual(80);
    expect(simulator.requests.filter((r) => r.phoneNumberId === account.phoneNumberId && r.code === 130429)).toHaveLength(0);
    expect(new Set(simulator.requests.filter((r) => r.phoneNumberId === account.phoneNumberId).map((r) => r.messageId)).size).toBe(1_000);
  });

  it("when two service processes share the queue, then together they still hold 80/s and send each message once", { timeout: 60_000 }, async () => {
    const again = await startOutboundService({ simulator, database: first.database });
    second = again;
    const account = await createAccount(first.service.app, { rate: 80 });
    const ids = await queueMessages(first.service.app, account, Array.from({ length: 1_000 }, () => ({ to: recipient() })));
    again.service.app.sendWakeup.notify();
    const states = await settled(first.service.app.database.db, account.tenantId, ids, 40_000);
    expect(states.every((s) => s.status === "sent")).toBe(true);
    const mine = simulator.requests.filter((r) => r.phoneNumberId === account.phoneNumberId);
    expect(mine.filter((r) => r.outcome !== "accepted").map((r) => r.code)).toEqual([]);
    expect(mine).toHaveLength(1_000);
    expect(new Set(mine.map((r) => r.messageId)).size).toBe(1_000);
    expect(simulator.maxInAnySecond(account.phoneNumberId)).toBeLessThanOrEqual(80);
    // Both processes took part: the shared bucket split the rate, it did not double it.
    const logs = [first.logText(), again.logText()];
    expect(logs.every((text) => text.includes("sender worker started"))).toBe(true);
  });
});
