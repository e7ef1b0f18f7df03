import { describe, expect, it } from "vitest";

import type { StatusUpdate } from "../domain/inbound.js";
import type { AccountRef, OutboundMessageSnapshot } from "../domain/inbound-events.js";
import { FakeStatusStore } from "../../test/kit/fakes/status-store.js";
import { applyPendingStatuses, applyStatusUpdate } from "./apply-message-status.js";

const ACCOUNT: AccountRef = {
  id: "00000000-0000-7000-8000-0000000000a1",
  tenantId: "acme",
  provider: "meta",
  phoneNumberId: "1000",
  wabaId: "2000",
  businessId: "3000",
  displayPhoneNumber: "+15550001000",
};
const NOW = new Date("2026-12-04T12:00:00Z");
const ERROR_131049 = { code: 131049, title: "This message was not delivered", message: "x", details: "per-user marketing limit", href: "" };

function sentMessage(wamid: string): OutboundMessageSnapshot {
  return {
    id: "00000000-0000-7000-8000-000000000001",
    wamid,
    accountId: ACCOUNT.id,
    conversationId: undefined,
    contactId: "00000000-0000-7000-8000-0000000000c1",
    contactPhone: "+15551234567",
    direction: "outbound",
    type: "text",
    status: "sent",
    displayText: "hello",
    metadata: {},
    attemptCount: 1,
    idempotencyKey: "key-1",
  };
}

function status(wamid: string, s: StatusUpdate["status"], errors: StatusUpdate["errors"] = []): StatusUpdate {
  return { wamid, status: s, providerStatus: s, timestamp: NOW, recipientId: "15551234567", errors, raw: {} };
}

function deps() {
  let id = 0;
  return { newId: () => `event-${++id}`, now: () => NOW };
}

describe("applyStatusUpdate", () => {
  it("when a status webhook reports failed (131049), then one message.status to FAILED and one message.failed, both with the code", async () => {
    const store = new FakeStatusStore();
    store.messages.set("wamid.A", sentMessage("wamid.A"));

    const result = await applyStatusUpdate(store, ACCOUNT, status("wamid.A", "failed", [ERROR_131049]), deps());

    expect(result.outcome).toBe("moved");
    expect(result.events).toMatchObject([
      { kind: "message.status", previousStatus: "sent", status: "failed", error: { code: 131049 } },
      { kind: "message.failed", previousStatus: "sent", error: { code: 131049, details: "per-user marketing limit" }, attemptCount: 1, idempotencyKey: "key-1" },
    ]);
    expect(store.changes.filter((c) => c.change.status === "failed")).toHaveLength(1);
  });

  it("when the same failure comes twice, then the second writes no event", async () => {
    const store = new FakeStatusStore();
    store.messages.set("wamid.A", sentMessage("wamid.A"));
    await applyStatusUpdate(store, ACCOUNT, status("wamid.A", "failed", [ERROR_131049]), deps());

    const again = await applyStatusUpdate(store, ACCOUNT, status("wamid.A", "failed", [ERROR_131049]), deps());

    expect(again).toEqual({ outcome: "stale", events: [] });
  });
});

describe("applyPendingStatuses", () => {
  it("when read and a failure were kept before the wamid was known, then they apply in arrival order from SENT, each event starting where the last ended", async () => {
    const store = new FakeStatusStore();
    await applyStatusUpdate(store, ACCOUNT, status("wamid.B", "delivered"), deps());
    await applyStatusUpdate(store, ACCOUNT, status("wamid.B", "read"), deps());
    store.messages.set("wamid.B", sentMessage("wamid.B"));

    const events = await applyPendingStatuses(store, "wamid.B", async () => ACCOUNT, deps());

    expect(events.map((e) => (e.kind === "message.status" ? `${e.previousStatus}→${e.status}` : e.kind))).toEqual(["sent→delivered", "delivered→read"]);
    expect(store.events).toEqual(events);
  });
});
