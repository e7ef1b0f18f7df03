/** updateConversation over in-memory ports: closing publishes conversation.closed once, in the same transaction. */
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import { InMemoryConversationStore } from "../../../test/kit/fakes/conversation-store.js";
import { InMemoryOutboundStore } from "../../../test/kit/fakes/outbound-store.js";
import type { DomainError } from "../../domain/errors.js";
import { sendMessage } from "../messaging/send-message.js";
import { updateConversation } from "./update-conversation.js";

const TENANT = "acme";
const NOW = new Date("2026-12-04T10:00:00Z");

/** A conversation opened by a send to a contact who wrote in (the send path's fake shares the tables). */
async function openConversation() {
  const conversations = new InMemoryConversationStore();
  const outbound = new InMemoryOutboundStore(conversations.tables);
  const deps = { conversations, outbound, newId: () => randomUUID(), now: () => NOW };
  const account = conversations.tables.addAccount(TENANT);
  conversations.tables.contactWrote(TENANT, account, "14155552671", NOW);
  const { message } = await sendMessage(deps, TENANT, {
    accountId: account.id,
    to: "+14155552671",
    content: { kind: "text", body: "Hi", previewUrl: false },
    replyTo: "",
    idempotencyKey: "",
    priority: "transactional",
    metadata: {},
  });
  return { deps, conversationId: message.conversationId!, tables: () => conversations.tables.of(TENANT) };
}

describe("updateConversation", () => {
  it("when a conversation is closed through the API, then it is closed and one conversation.closed (reason api) is appended; closing it again appends nothing", async () => {
    const { deps, conversationId, tables } = await openConversation();

    const view = await updateConversation(deps, TENANT, conversationId, { status: "closed" });
    await updateConversation(deps, TENANT, conversationId, { status: "closed" });

    expect(view.conversation.status).toBe("closed");
    expect(tables().closed).toHaveLength(1);
    expect(tables().closed[0]).toMatchObject({ kind: "conversation.closed", reason: "api", conversation: { id: conversationId, status: "closed" } });
  });

  it("when the context changes, then it is stored and no event is appended", async () => {
    const { deps, conversationId, tables } = await openConversation();

    const view = await updateConversation(deps, TENANT, conversationId, { context: "order #42" });

    expect(view.conversation.context).toBe("order #42");
    expect(tables().conversations.get(conversationId)?.context).toBe("order #42");
    expect(tables().closed).toEqual([]);
  });

  it("when the conversation is not the tenant's, then NotFound", async () => {
    const { deps, conversationId } = await openConversation();
    const error = await updateConversation(deps, "other-tenant", conversationId, { status: "closed" }).catch((e: unknown) => e as DomainError);
    expect(error).toMatchObject({ kind: "not_found", reason: "CONVERSATION_NOT_FOUND" });
  });
});
