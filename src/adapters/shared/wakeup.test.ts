import { describe, expect, it } from "vitest";
import { Wakeup } from "./wakeup.js";

describe("Wakeup", () => {
  it("when notified before anyone waits, then the next wait returns at once", async () => {
    const wakeup = new Wakeup();
    wakeup.notify();
    let resolved = false;
    const waiting = wakeup.wait(60_000).then(() => (resolved = true));
    await waiting;
    expect(resolved).toBe(true);
  });

  it("when a waiter is notified, then it resumes before its timeout", async () => {
    const wakeup = new Wakeup();
    const waiting = wakeup.wait(60_000);
    wakeup.notify();
    await expect(waiting).resolves.toBeUndefined();
  });

  it("when the signal aborts, then the wait ends", async () => {
    const wakeup = new Wakeup();
    const controller = new AbortController();
    const waiting = wakeup.wait(60_000, controller.signal);
    controller.abort();
    await expect(waiting).resolves.toBeUndefined();
  });
});
