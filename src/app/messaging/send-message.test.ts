/**
 * sendMessage over in-memory ports: the send path's rules (24-hour window,
 * idempotency keys, no marketing to opted-out contacts) without a database.
 * The same flows against PostgreSQL are in test/messaging/.
 */
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import { InMemoryOutboundStore } from "../../../test/kit/fakes/outbound-store.js";
import type { DomainError } from "../../domain/errors.js";
import type { SendRequest } from "../../domain/outbound/index.js";
import { sendMessage } from "./send-message.js";

const TENANT = "acme";
const NOW = new Date("2026-12-04T10:00:00Z");
const HOUR = 60 * 60 * 1000;

function setup() {
  const outbound = new InMemoryOutboundStore();
  const account = outbound.tables.addAccount(TENANT);
  const deps = { outbound, newId: () => randomUUID(), now: () => NOW };
  const tables = () => outbound.tables.of(TENANT);
  return { outbound, account, deps, tables };
}

function text(accountId: string, to: string, extra: Partial<SendRequest> = {}): SendRequest {
  return {
    accountId,
    to,
    content: { kind: "text", body: "Your order shipped", previewUrl: false },
    replyTo: "",
    idempotencyKey: "",
    priority: "transactional",
    metadata: {},
    ...extra,
  };
}

async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    return error as DomainError;
  }
  throw new Error("expected the send to be refused");
}

describe("sendMessage", () => {
  it("when the contact wrote within 24 hours, then the text is queued with its send job and a conversation is opened", async () => {
    const { account, deps, tables } = setup();
    const contact = deps.outbound.tables.contactWrote(TENANT, account, "14155552671", new Date(NOW.getTime() - 2 * HOUR));

    const result = await sendMessage(deps, TENANT, text(account.id, "+14155552671"));

    expect(result.duplicate).toBe(false);
    expect(result.message).toMatchObject({ status: "queued", direction: "outbound", type: "text", contact: { id: contact.id } });
    expect(tables().jobs).toEqual([{ messageId: result.message.id, accountId: account.id, tenantId: TENANT, priority: "transactional" }]);
    expect(tables().events.map((e) => e.kind)).toEqual(["conversation.opened"]);
  });

  it("when free-form content goes to a contact whose window closed, then it is refused (OUTSIDE_SERVICE_WINDOW) and nothing is queued", async () => {
    const { account, deps, tables } = setup();
    deps.outbound.tables.contactWrote(TENANT, account, "14155552671", new Date(NOW.getTime() - 25 * HOUR));

    const error = await refusal(sendMessage(deps, TENANT, text(account.id, "+14155552671")));

    expect({ kind: error.kind, reason: error.reason }).toEqual({ kind: "failed_precondition", reason: "OUTSIDE_SERVICE_WINDOW" });
    expect(error.message).toContain("closed since 2026-12-04T09:00:00.000Z");
    expect(tables().messages.size).toBe(0);
    expect(tables().jobs).toEqual([]);
  });

  it("when free-form content goes to someone who never wrote, then it is refused, and no contact or conversation is left behind", async () => {
    const { account, deps, tables } = setup();

    const error = await refusal(sendMessage(deps, TENANT, text(account.id, "+14155552671")));

    expect(error.reason).toBe("OUTSIDE_SERVICE_WINDOW");
    expect(error.message).toContain("never written");
    expect(tables().contacts.size).toBe(0);
    expect(tables().conversations.size).toBe(0);
  });

  it("when the same idempotency key is sent twice, then the second call returns the first message as a duplicate and one job exists", async () => {
    const { account, deps, tables } = setup();
    deps.outbound.tables.contactWrote(TENANT, account, "14155552671", NOW);

    const first = await sendMessage(deps, TENANT, text(account.id, "+14155552671", { idempotencyKey: "order-42" }));
    const again = await sendMessage(deps, TENANT, text(account.id, "+14155552671", { idempotencyKey: "order-42" }));

    expect(again).toEqual({ message: first.message, duplicate: true });
    expect(tables().messages.size).toBe(1);
    expect(tables().jobs).toHaveLength(1);
  });

  it("when a marketing send goes to a contact who opted out, then it is refused (CONTACT_OPTED_OUT); a transactional one goes", async () => {
    const { account, deps, tables } = setup();
    deps.outbound.tables.addContact(TENANT, "14155552671", { optedOut: true });
    deps.outbound.tables.contactWrote(TENANT, account, "14155552671", NOW);

    const error = await refusal(sendMessage(deps, TENANT, text(account.id, "+14155552671", { priority: "marketing" })));
    expect({ kind: error.kind, reason: error.reason }).toEqual({ kind: "failed_precondition", reason: "CONTACT_OPTED_OUT" });
    expect(tables().messages.size).toBe(0);

    const sent = await sendMessage(deps, TENANT, text(account.id, "+14155552671"));
    expect(sent.message.status).toBe("queued");
  });

  it("when the request breaks WhatsApp's rules, then every violation is named by field and nothing is written", async () => {
    const { account, deps, tables } = setup();

    const error = await refusal(sendMessage(deps, TENANT, text(account.id, "12", { content: { kind: "text", body: "", previewUrl: false } })));

    expect(error.kind).toBe("invalid_argument");
    expect(error.violations.map((v) => v.field)).toEqual(["to", "text.body"]);
    expect(tables().messages.size).toBe(0);
  });

  it("when the account is not the tenant's, then NotFound", async () => {
    const { deps } = setup();
    const error = await refusal(sendMessage(deps, TENANT, text(randomUUID(), "+14155552671")));
    expect({ kind: error.kind, reason: error.reason }).toEqual({ kind: "not_found", reason: "ACCOUNT_NOT_FOUND" });
  });
});
