import { describe, expect, it } from "vitest";

import type { ConversationSnapshot } from "../inbound-events.js";
import type { DomainError } from "../errors.js";
import { lastActivityOf, planConversationUpdate } from "./conversation-update.js";

const at = new Date("2025-06-01T12:00:00Z");
const conversation = (status: ConversationSnapshot["status"]): ConversationSnapshot => ({
  id: "c1",
  accountId: "a1",
  contactId: "k1",
  status,
  source: "inbound",
  context: "",
  summary: "",
  externalRefs: {},
  metadata: {},
  messageCount: 1,
  inboundMessageCount: 1,
  outboundMessageCount: 0,
  lastInboundTime: new Date("2025-06-01T10:00:00Z"),
  lastOutboundTime: undefined,
  createTime: new Date("2025-06-01T09:00:00Z"),
  updateTime: new Date("2025-06-01T10:00:00Z"),
  closeTime: undefined,
});

describe("UpdateConversation rules", () => {
  it("when an open conversation is closed, then it gets a close time, reason api, and the change closes it", () => {
    expect(planConversationUpdate(conversation("active"), { status: "closed" }, at)).toEqual({ set: { status: "closed", closeTime: at, closeReason: "api" }, closes: true });
  });

  it("when a closed conversation is closed again, then nothing changes; reopening it is refused", () => {
    expect(planConversationUpdate(conversation("closed"), { status: "closed", summary: "s" }, at)).toEqual({ set: { summary: "s" }, closes: false });
    const error = (() => {
      try {
        planConversationUpdate(conversation("closed"), { status: "active" }, at);
      } catch (e) {
        return e as DomainError;
      }
    })();
    expect(error?.reason).toBe("CONVERSATION_CLOSED");
  });

  it("when the mask names status but none is given, then it is refused on the field", () => {
    expect(() => planConversationUpdate(conversation("active"), { status: undefined }, at)).toThrow(/conversation.status/);
  });

  it("when escalating, then only the status changes", () => {
    expect(planConversationUpdate(conversation("active"), { status: "escalated", metadata: { a: "b" } }, at)).toEqual({ set: { status: "escalated", metadata: { a: "b" } }, closes: false });
  });

  it("last activity is the latest of inbound, outbound and opening", () => {
    expect(lastActivityOf(conversation("active"))).toEqual(new Date("2025-06-01T10:00:00Z"));
  });
});
