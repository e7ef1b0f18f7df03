/**
 * ConversationService's handlers behind a Connect router transport with the
 * server's interceptors and the test kit's in-memory ports: update masks
 * checked field by field, NotFound for another tenant's conversation, and
 * a close answered with the closed conversation.
 */
import { randomUUID } from "node:crypto";

import { Code, ConnectError, createClient, createRouterTransport, type Interceptor } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";

import { BadRequestSchema, ErrorInfoSchema } from "../../../../gen/google/rpc/error_details_pb.js";
import { ConversationStatus } from "../../../../gen/whatsapp/v1/common_pb.js";
import { ConversationService } from "../../../../gen/whatsapp/v1/conversation_pb.js";
import { InMemoryConversationStore } from "../../../../test/kit/fakes/conversation-store.js";
import { InMemoryOutboundStore } from "../../../../test/kit/fakes/outbound-store.js";
import { sendMessage } from "../../../app/messaging/send-message.js";
import { createLogger } from "../../../observability/logger.js";
import { createLoggingInterceptor } from "../logging.js";
import { createHeaderTenantInterceptor, TENANT_HEADER } from "../tenant-context.js";
import { createValidationInterceptor } from "../validation.js";
import { conversationService } from "./index.js";
import type { EventStream } from "./watch-events.js";

const TENANT = "acme";
const SERVER_INTERCEPTORS = [createLoggingInterceptor(createLogger({ level: "silent" })), createHeaderTenantInterceptor(), createValidationInterceptor()];

function clientAs(tenantId: string, conversations: InMemoryConversationStore) {
  const eventFeed: EventStream = {
    now: () => Promise.reject(new Error("WatchEvents is not called here")),
    resumeAfter: () => Promise.reject(new Error("WatchEvents is not called here")),
    watch: () => {
      throw new Error("WatchEvents is not called here");
    },
  };
  const service = conversationService({ conversations, eventFeed, defaultInactivityTimeoutSeconds: 86_400, newId: () => randomUUID(), now: () => new Date() });
  const tenant: Interceptor = (next) => (req) => {
    req.header.set(TENANT_HEADER, tenantId);
    return next(req);
  };
  const transport = createRouterTransport((router) => router.service(ConversationService, service), { router: { interceptors: SERVER_INTERCEPTORS }, transport: { interceptors: [tenant] } });
  return createClient(ConversationService, transport);
}

/** A conversation opened by a send (the send path's fake shares the conversation fake's tables). */
async function openConversation(conversations: InMemoryConversationStore): Promise<string> {
  const account = conversations.tables.addAccount(TENANT);
  conversations.tables.contactWrote(TENANT, account, "14155552671", new Date());
  const outbound = new InMemoryOutboundStore(conversations.tables);
  const { message } = await sendMessage({ outbound, newId: () => randomUUID(), now: () => new Date() }, TENANT, {
    accountId: account.id,
    to: "+14155552671",
    content: { kind: "text", body: "Hi", previewUrl: false },
    replyTo: "",
    idempotencyKey: "",
    priority: "transactional",
    metadata: {},
  });
  return message.conversationId!;
}

async function refusal(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the call to fail");
}

describe("ConversationService handlers in memory", () => {
  it("when UpdateConversation's mask names a field that cannot change, then InvalidArgument on update_mask and nothing changes", async () => {
    const conversations = new InMemoryConversationStore();
    const id = await openConversation(conversations);
    const client = clientAs(TENANT, conversations);

    const error = await refusal(client.updateConversation({ conversation: { id, summary: "x" }, updateMask: { paths: ["summary", "account_id"] } }));

    expect(error.code).toBe(Code.InvalidArgument);
    // protovalidate (the proto's mask rule) answers before the handler's own check.
    const violations = error.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations);
    expect(violations.map((v) => v.field)).toEqual(["update_mask"]);
    expect(violations[0]!.description).toContain("status, context, summary, external_refs, metadata");
    expect(conversations.tables.of(TENANT).conversations.get(id)?.summary).toBe("");
  });

  it("when a conversation is closed, then the answer shows it closed; another tenant gets NotFound for it", async () => {
    const conversations = new InMemoryConversationStore();
    const id = await openConversation(conversations);

    const { conversation } = await clientAs(TENANT, conversations).updateConversation({ conversation: { id, status: ConversationStatus.CLOSED }, updateMask: { paths: ["status"] } });
    expect(conversation?.status).toBe(ConversationStatus.CLOSED);

    const error = await refusal(clientAs("globex", conversations).getConversation({ conversationId: id }));
    expect(error.code).toBe(Code.NotFound);
    expect(error.findDetails(ErrorInfoSchema).map((d) => d.reason)).toEqual(["CONVERSATION_NOT_FOUND"]);
  });
});
