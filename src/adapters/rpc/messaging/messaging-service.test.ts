/**
 * MessagingService in memory: the handlers behind a Connect router transport
 * (no HTTP, no database), with the server's error mapping, tenant and
 * validation interceptors, and in-memory ports from the test kit. What the
 * caller sees — codes, ErrorInfo, field violations — is checked here; the
 * same calls over real HTTP and PostgreSQL are in test/messaging/.
 */
import { randomUUID } from "node:crypto";

import { Code, ConnectError, createClient, createRouterTransport, type Interceptor } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";

import { BadRequestSchema, ErrorInfoSchema } from "../../../../gen/google/rpc/error_details_pb.js";
import { MessagingService } from "../../../../gen/whatsapp/v1/messaging_pb.js";
import { MessageStatus } from "../../../../gen/whatsapp/v1/message_pb.js";
import { InMemoryOutboundStore } from "../../../../test/kit/fakes/outbound-store.js";
import { createLogger } from "../../../observability/logger.js";
import type { ProviderRegistry } from "../../../ports/whatsapp-provider.js";
import type { AccountRepository } from "../../../ports/account-repository.js";
import { createLoggingInterceptor } from "../logging.js";
import { createHeaderTenantInterceptor, TENANT_HEADER } from "../tenant-context.js";
import { createValidationInterceptor } from "../validation.js";
import { messagingService } from "./index.js";

const TENANT = "acme";
/** The server's interceptors, built once (protovalidate compiles its rules on first use). */
const SERVER_INTERCEPTORS = [createLoggingInterceptor(createLogger({ level: "silent" })), createHeaderTenantInterceptor(), createValidationInterceptor()];

/** Neither is reached by the calls below (they are MarkAsRead's): a call would fail the test. */
const unused = <T extends object>(name: string): T =>
  new Proxy({} as T, {
    get: (_target, method) => () => {
      throw new Error(`${name}.${String(method)} was not expected`);
    },
  });

function client() {
  const outbound = new InMemoryOutboundStore();
  const account = outbound.tables.addAccount(TENANT);
  const service = messagingService({
    outbound,
    accounts: unused<AccountRepository>("accounts"),
    providers: unused<ProviderRegistry>("providers"),
    newId: () => randomUUID(),
    now: () => new Date(),
  });
  const tenant: Interceptor = (next) => (req) => {
    req.header.set(TENANT_HEADER, TENANT);
    return next(req);
  };
  const transport = createRouterTransport((router) => router.service(MessagingService, service), {
    router: { interceptors: SERVER_INTERCEPTORS },
    transport: { interceptors: [tenant] },
  });
  return { messaging: createClient(MessagingService, transport), outbound, account };
}

async function refusal(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the call to fail");
}

describe("MessagingService handlers in memory", () => {
  it("when GetMessage names no message of the tenant, then NotFound with reason MESSAGE_NOT_FOUND", async () => {
    const { messaging } = client();
    const error = await refusal(messaging.getMessage({ messageId: randomUUID() }));
    expect(error.code).toBe(Code.NotFound);
    expect(error.findDetails(ErrorInfoSchema).map((d) => d.reason)).toEqual(["MESSAGE_NOT_FOUND"]);
  });

  it("when SendMessage breaks WhatsApp's rules, then InvalidArgument names each field, and nothing is queued", async () => {
    const { messaging, outbound, account } = client();
    const error = await refusal(messaging.sendMessage({ accountId: account.id, to: "12", content: { case: "text", value: { body: "" } } }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations.map((v) => v.field))).toEqual(["to", "text.body"]);
    expect(outbound.tables.of(TENANT).jobs).toEqual([]);
  });

  it("when SendMessage has no content, then InvalidArgument on content", async () => {
    const { messaging, account } = client();
    const error = await refusal(messaging.sendMessage({ accountId: account.id, to: "+14155552671" }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations.map((v) => v.field))).toContain("content");
  });

  it("when a template is sent, then the answer is the queued message and GetMessage returns it", async () => {
    const { messaging, account } = client();
    const { message } = await messaging.sendMessage({ accountId: account.id, to: "+14155552671", content: { case: "template", value: { name: "hello_world", language: "en_US" } } });
    expect(message).toMatchObject({ accountId: account.id, status: MessageStatus.QUEUED });
    const { message: got } = await messaging.getMessage({ messageId: message!.id });
    expect(got?.id).toBe(message!.id);
  });
});
