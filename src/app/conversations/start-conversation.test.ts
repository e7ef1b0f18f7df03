/** startConversation over in-memory ports: the marketing opt-out rule and request-id repeats. */
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import { InMemoryConversationStore } from "../../../test/kit/fakes/conversation-store.js";
import type { DomainError } from "../../domain/errors.js";
import type { SendPriority } from "../../domain/priority.js";
import { startConversation, type StartConversationRequest } from "./start-conversation.js";

const TENANT = "acme";
const NOW = new Date("2026-12-04T10:00:00Z");

function setup() {
  const conversations = new InMemoryConversationStore();
  const account = conversations.tables.addAccount(TENANT);
  for (const [name, category] of [["promo", "MARKETING"], ["order_update", "UTILITY"]] as const) conversations.tables.of(TENANT).templateCategories.set(`${account.id}/${name}/en_US`, category);
  const deps = { conversations, newId: () => randomUUID(), now: () => NOW };
  return { deps, account, tables: () => conversations.tables.of(TENANT) };
}

function request(accountId: string, template: string, extra: { requestId?: string; priority?: SendPriority } = {}): StartConversationRequest {
  return {
    requestId: extra.requestId ?? "",
    accountId,
    phone: "+14155552671",
    template: { kind: "template", name: template, language: "en_US", components: [] },
    context: "missed call",
    externalRefs: { call: "c-1" },
    metadata: {},
    source: "post_call",
    priority: extra.priority ?? "transactional",
  };
}

describe("startConversation", () => {
  it("when a MARKETING template would go to a contact who opted out, then it is refused (CONTACT_OPTED_OUT) and nothing is queued; a UTILITY template goes", async () => {
    const { deps, account, tables } = setup();
    deps.conversations.tables.addContact(TENANT, "14155552671", { optedOut: true });

    const error = await startConversation(deps, TENANT, request(account.id, "promo")).catch((e: unknown) => e as DomainError);
    expect(error).toMatchObject({ kind: "failed_precondition", reason: "CONTACT_OPTED_OUT" });
    expect(tables().messages.size).toBe(0);

    const started = await startConversation(deps, TENANT, request(account.id, "order_update"));
    expect(started.conversation.conversation).toMatchObject({ source: "post_call", context: "missed call", externalRefs: { call: "c-1" } });
    expect(tables().jobs).toHaveLength(1);
  });

  it("when a send at marketing priority would go to a contact who opted out, then it is refused whatever the template", async () => {
    const { deps, account } = setup();
    deps.conversations.tables.addContact(TENANT, "14155552671", { optedOut: true });
    const error = await startConversation(deps, TENANT, request(account.id, "order_update", { priority: "marketing" })).catch((e: unknown) => e as DomainError);
    expect(error).toMatchObject({ reason: "CONTACT_OPTED_OUT" });
  });

  it("when the same request id comes twice, then the second returns the first conversation and message as a duplicate", async () => {
    const { deps, account, tables } = setup();
    const first = await startConversation(deps, TENANT, request(account.id, "order_update", { requestId: "call-1" }));
    const again = await startConversation(deps, TENANT, request(account.id, "order_update", { requestId: "call-1" }));
    expect(again.duplicate).toBe(true);
    expect(again.message.id).toBe(first.message.id);
    expect(tables().jobs).toHaveLength(1);
  });
});
