import { beforeEach, describe, expect, it } from "vitest";

import { DEFAULT_CIRCUIT_SETTINGS } from "../../domain/circuit-breaker.js";
import {
  claimedSend,
  FakeProvider,
  FakeSendCredentials,
  FakeSendQueue,
  FakeSendResults,
  MemoryLog,
} from "../../../test/kit/fakes/send-ports.js";
import { deliverSend, recordDeliveries, type DeliverSendDeps, type RecordDeliveriesDeps } from "./deliver-send.js";

const NOW = new Date("2026-12-04T12:00:00Z");
const RETRY = { maxAttempts: 6, baseDelayMs: 1_000, maxDelayMs: 300_000, pairRateBaseDelayMs: 1_000 };

let provider: FakeProvider;
let credentials: FakeSendCredentials;
let queue: FakeSendQueue;
let results: FakeSendResults;
let log: MemoryLog;
let deliver: DeliverSendDeps;
let record: RecordDeliveriesDeps;

beforeEach(() => {
  provider = new FakeProvider();
  credentials = new FakeSendCredentials();
  queue = new FakeSendQueue();
  results = new FakeSendResults();
  log = new MemoryLog();
  // random() = 0: the jittered half of each backoff is zero, so delays are exact.
  deliver = { providers: provider, credentials, log, now: () => NOW, epochMs: () => queue.nowMs, retry: RETRY, random: () => 0, reconcileCheckEveryMs: 15_000 };
  let id = 0;
  record = { queue, results, log, newId: () => `event-${++id}`, now: () => NOW, circuit: DEFAULT_CIRCUIT_SETTINGS, throttlePauseMs: 1_000 };
});

describe("deliverSend", () => {
  it("when the provider accepts, then the message is recorded sent with its wamid and the circuit hears a success", async () => {
    provider.answer({ kind: "accepted", providerMessageId: "wamid.OK" });
    const send = claimedSend();

    const delivery = await deliverSend(deliver, send);

    expect(delivery).toEqual({ result: { kind: "sent", send, wamid: "wamid.OK", at: NOW }, circuit: "success", throttled: false });
    expect(provider.sends).toEqual([
      {
        account: expect.objectContaining({ id: send.account.id, accessToken: "token-1" }),
        message: { messageId: send.message.id, to: "15551234567", body: { type: "text", text: { body: "hello" } } },
      },
    ]);
    const recorded = await recordDeliveries(record, [delivery]);
    expect(recorded).toMatchObject({ recorded: 1, kept: [], failedTenants: 0, events: 1 });
    expect(results.all()).toEqual([delivery.result]);
    expect(queue.circuits.get(send.account.id)).toEqual({ state: "closed", failures: 0, openUntil: null });
  });

  it("when the provider refuses the message for good (131026), then it fails not retryable and the circuit is not blamed", async () => {
    const error = { code: 131026, title: "Message undeliverable", details: "", httpStatus: 400 };
    provider.answer({ kind: "rejected", error });
    const send = claimedSend();

    const delivery = await deliverSend(deliver, send);

    expect(delivery).toEqual({ result: { kind: "failed", send, error, retryable: false }, circuit: "success", throttled: false });
  });

  it("when the provider fails with a 5xx, then the send is retried after the backoff and counts as a provider fault", async () => {
    const error = { code: 131000, title: "Something went wrong", details: "", httpStatus: 500 };
    provider.answer({ kind: "rejected", error });
    const send = claimedSend({}, 2);

    const delivery = await deliverSend(deliver, send);

    // Attempt 2: base × 2, half of it fixed (random() = 0).
    expect(delivery).toEqual({ result: { kind: "retry", send, error, delayMs: 1_000 }, circuit: "fault", throttled: false });
  });

  it("when a retryable error comes at the last attempt, then the message fails as retryable", async () => {
    const error = { code: 131000, title: "Something went wrong", details: "", httpStatus: 500 };
    provider.answer({ kind: "rejected", error });
    const send = claimedSend({}, RETRY.maxAttempts);

    const delivery = await deliverSend(deliver, send);

    expect(delivery.result).toEqual({ kind: "failed", send, error, retryable: true });
  });

  it("when the pair rate limit refuses (131056), then only this recipient waits, 4^attempt longer, and the circuit is not blamed", async () => {
    const error = { code: 131056, title: "Pair rate limit hit", details: "", httpStatus: 400 };
    provider.answer({ kind: "rejected", error }, { kind: "rejected", error });
    const first = await deliverSend(deliver, claimedSend({}, 1));
    const third = await deliverSend(deliver, claimedSend({}, 3));

    expect(first).toMatchObject({ result: { kind: "retry", delayMs: 500 }, circuit: "success", throttled: false });
    // 1,000 ms × 4² = 16 s, half fixed.
    expect(third).toMatchObject({ result: { kind: "retry", delayMs: 8_000 }, circuit: "success", throttled: false });
  });

  it("when the token expired (190), then the account is paused, its credentials forgotten, and an operator is told", async () => {
    const error = { code: 190, title: "Access token has expired", details: "", httpStatus: 401 };
    provider.answer({ kind: "rejected", error });
    const send = claimedSend();

    const delivery = await deliverSend(deliver, send);

    expect(delivery).toEqual({ result: { kind: "paused", send, error }, circuit: "success", throttled: false });
    expect(credentials.forgotten).toEqual([send.account.id]);
    expect(log.lines).toContainEqual(expect.objectContaining({ level: "error", obj: expect.objectContaining({ accountId: send.account.id, code: 190 }) }));
    await recordDeliveries(record, [delivery]);
    expect(results.all()).toEqual([delivery.result]);
  });

  it("when the credentials cannot be opened, then nothing is sent and the account is paused like an expired token", async () => {
    credentials.unreadable = true;
    const send = claimedSend();

    const delivery = await deliverSend(deliver, send);

    expect(provider.sends).toEqual([]);
    expect(delivery.result).toMatchObject({ kind: "paused", error: { code: 0, title: "Credentials unreadable", httpStatus: 401 } });
  });

  it("when Meta throttles the number (130429), then the send is retried and the account's next slot is pushed out", async () => {
    const error = { code: 130429, title: "Rate limit hit", details: "", httpStatus: 400 };
    provider.answer({ kind: "rejected", error });
    const send = claimedSend();

    const delivery = await deliverSend(deliver, send);
    await recordDeliveries(record, [delivery]);

    expect(delivery).toMatchObject({ result: { kind: "retry" }, circuit: "success", throttled: true });
    expect(queue.throttledAccounts).toEqual([send.account.id]);
  });

  it("when the answer is lost after the request went out, then the message is not resent but reconciled later", async () => {
    const error = { code: 0, title: "Timeout", details: "no answer within 10000 ms", httpStatus: 0 };
    provider.answer({ kind: "unknown", error });
    const send = claimedSend();

    const delivery = await deliverSend(deliver, send);

    expect(delivery).toEqual({ result: { kind: "unknown", send, error, checkInMs: 15_000 }, circuit: "fault", throttled: false });
    expect(provider.sends).toHaveLength(1);
  });

  it("when the send throws before reaching the provider, then it is retried (nothing went out)", async () => {
    provider.answer(new Error("sandbox inbox unavailable"));
    const send = claimedSend();

    const delivery = await deliverSend(deliver, send);

    expect(delivery.result).toMatchObject({ kind: "retry", error: { code: 0, title: "Send error", details: "sandbox inbox unavailable", httpStatus: 0 } });
  });

  it("when the account's circuit is open, then a send claimed before it opened is given back unsent", async () => {
    const send = claimedSend();

    const delivery = await deliverSend(deliver, send, queue.nowMs + 5_000);

    expect(delivery).toEqual({ result: { kind: "missed", send, reason: "circuit open" }, circuit: "neutral", throttled: false });
    expect(provider.sends).toEqual([]);
  });

  it("when the circuit's open time has passed, then the send goes out", async () => {
    const delivery = await deliverSend(deliver, claimedSend(), queue.nowMs - 1);

    expect(delivery.result.kind).toBe("sent");
  });
});

describe("recordDeliveries", () => {
  it("when faults reach the threshold, then the circuit opens and the batch reports until when", async () => {
    const error = { code: 131000, title: "Something went wrong", details: "", httpStatus: 500 };
    const faults = Array.from({ length: DEFAULT_CIRCUIT_SETTINGS.failureThreshold }, () => ({ kind: "rejected" as const, error }));
    provider.answer(...faults);
    const deliveries = await Promise.all(faults.map(() => deliverSend(deliver, claimedSend())));

    const recorded = await recordDeliveries(record, deliveries);

    const openUntil = queue.nowMs + DEFAULT_CIRCUIT_SETTINGS.openMs;
    expect(recorded.circuits.get(deliveries[0]!.result.send.account.id)).toBe(openUntil);
    expect(log.lines).toContainEqual(expect.objectContaining({ level: "warn", msg: "circuit open: the provider keeps failing for this account" }));
    // The next send of the account, claimed before it opened, is held.
    expect((await deliverSend(deliver, claimedSend(), openUntil)).result.kind).toBe("missed");
  });

  it("when one tenant's transaction fails, then its results are kept to record again and the others commit", async () => {
    results.failTenants.add("broken");
    const ok = await deliverSend(deliver, claimedSend({ tenantId: "acme" }));
    const broken = await deliverSend(deliver, claimedSend({ tenantId: "broken", id: "00000000-0000-7000-8000-0000000000b2" }));

    const recorded = await recordDeliveries(record, [ok, broken]);

    expect(recorded).toMatchObject({ recorded: 1, kept: [broken], failedTenants: 1, events: 1 });
    expect(results.all()).toEqual([ok.result]);
  });
});
