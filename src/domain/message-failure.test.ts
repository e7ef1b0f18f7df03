import { describe, expect, it } from "vitest";

import { failureEvents, providerErrorOf } from "./message-failure.js";

describe("failureEvents", () => {
  it("when a send is refused (131026), then message.status SENDING → FAILED comes first and message.failed second, both with the code", () => {
    let id = 0;
    const at = new Date("2026-12-04T12:00:00Z");
    const [status, failed] = failureEvents(() => `e${++id}`, {
      account: { id: "a", tenantId: "t", provider: "meta", phoneNumberId: "1", wabaId: "2", businessId: "3", displayPhoneNumber: "+15550001000" },
      occurredAt: at,
      message: {
        id: "m",
        wamid: "",
        accountId: "a",
        conversationId: undefined,
        contactId: "c",
        contactPhone: "+15551234567",
        direction: "outbound",
        type: "text",
        status: "sending",
        displayText: "hi",
        metadata: {},
      },
      statusTime: at,
      error: providerErrorOf({ code: 131026, title: "Message undeliverable", details: "" }),
      retryable: false,
      attemptCount: 1,
      idempotencyKey: undefined,
    });

    expect(status).toMatchObject({ kind: "message.status", eventId: "e1", previousStatus: "sending", status: "failed", error: { code: 131026 }, message: { status: "failed" } });
    expect(failed).toMatchObject({ kind: "message.failed", eventId: "e2", previousStatus: "sending", error: { code: 131026, title: "Message undeliverable" } });
  });
});
