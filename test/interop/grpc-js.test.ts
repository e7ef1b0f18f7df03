/**
 * A caller on @grpc/grpc-js, with the repo's generated clients
 * (clients/grpc-js), against the real service over h2c: unary calls,
 * idempotent sends, server streaming with resume, deadlines, cancellation,
 * metadata, error details and the error text exactly as the server wrote it,
 * and keepalive pings on an idle stream.
 */
import { credentials, Metadata, status as GrpcStatus, type ChannelOptions, type ClientReadableStream, type ServiceError } from "@grpc/grpc-js";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { BadRequest, ErrorInfo } from "../../clients/grpc-js/google/rpc/error_details.js";
import { Status } from "../../clients/grpc-js/google/rpc/status.js";
import { AccountServiceClient, CreateAccountRequest, ListAccountsRequest, Provider } from "../../clients/grpc-js/whatsapp/v1/account.js";
import { ConversationServiceClient, WatchEventsRequest, type WatchEventsResponse } from "../../clients/grpc-js/whatsapp/v1/conversation.js";
import { EventType } from "../../clients/grpc-js/whatsapp/v1/events.js";
import { MessageStatus } from "../../clients/grpc-js/whatsapp/v1/message.js";
import { GetMessageRequest, MessagingServiceClient, SendMessageRequest } from "../../clients/grpc-js/whatsapp/v1/messaging.js";
import { unary } from "../../examples/support.js";
import { eventually } from "../kit/eventually.js";
import { mintToken, startTestService, uniqueTenant, type TestService } from "../support/service.js";

/** Sends go through the queue, the sandbox and the inbox: generous on a loaded machine. */
const FLOW_MS = 60_000;
const FLOW_TEST_MS = 2 * FLOW_MS;

let svc: TestService;
let sql: postgres.Sql;
let address: string;
const clients: { close(): void }[] = [];

beforeAll(async () => {
  svc = await startTestService();
  sql = postgres(svc.database.url, { max: 2, onnotice: () => {} });
  address = new URL(svc.service.url).host;
});

afterAll(async () => {
  for (const client of clients) client.close();
  await sql?.end({ timeout: 5 });
  await svc?.cleanup();
});

function grpcClients(options: Partial<ChannelOptions> = {}) {
  const made = {
    accounts: new AccountServiceClient(address, credentials.createInsecure(), options),
    messaging: new MessagingServiceClient(address, credentials.createInsecure(), options),
    conversations: new ConversationServiceClient(address, credentials.createInsecure(), options),
  };
  clients.push(made.accounts, made.messaging, made.conversations);
  return made;
}

function tenantMetadata(tenant: string): Metadata {
  const metadata = new Metadata();
  metadata.set("x-tenant-id", tenant);
  return metadata;
}

async function sandboxAccount(c: ReturnType<typeof grpcClients>, metadata: Metadata): Promise<string> {
  const { account } = await unary(
    c.accounts.createAccount.bind(c.accounts),
    CreateAccountRequest.fromPartial({ account: { provider: Provider.PROVIDER_SANDBOX, phoneNumberId: uniqueTenant("sbx"), displayName: "grpc-js interop" } }),
    metadata,
  );
  return account!.id;
}

function templateSend(accountId: string, idempotencyKey = ""): SendMessageRequest {
  return SendMessageRequest.fromPartial({
    accountId,
    to: "+14155552671",
    content: { $case: "template", template: { name: "hello_world", language: "en_US" } },
    idempotencyKey,
  });
}

/** Collects a stream's responses; `ended` settles with its final error (or undefined on a clean end). */
function collect(call: ClientReadableStream<WatchEventsResponse>) {
  const responses: WatchEventsResponse[] = [];
  call.on("data", (r: WatchEventsResponse) => responses.push(r));
  const ended = new Promise<ServiceError | undefined>((resolve) => {
    call.on("error", (e: ServiceError) => resolve(e));
    call.on("end", () => resolve(undefined));
  });
  return { responses, ended };
}

function statusesOf(responses: WatchEventsResponse[], messageId: string): MessageStatus[] {
  return responses.flatMap((r) => (r.event?.payload?.$case === "messageStatus" && r.event.payload.messageStatus.messageId === messageId ? [r.event.payload.messageStatus.status] : []));
}

/** The service's log line for the last call of `rpc` in `tenant` (the logging interceptor's). */
function rpcLine(rpc: string, tenant: string): Record<string, unknown> | undefined {
  return svc
    .logText()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => (l.msg === "rpc" || l.msg === "rpc failed") && l.rpc === rpc && l.tenant === tenant)
    .at(-1);
}

describe("grpc-js caller", () => {
  it("when it creates an account, sends a template twice with one idempotency key and reads it back, then every answer names the first message", async () => {
    const c = grpcClients();
    const metadata = tenantMetadata(uniqueTenant("gjs"));
    const accountId = await sandboxAccount(c, metadata);

    const send = templateSend(accountId, "order-42-confirmation");
    const first = await unary(c.messaging.sendMessage.bind(c.messaging), send, metadata);
    const repeat = await unary(c.messaging.sendMessage.bind(c.messaging), send, metadata);
    expect(first.duplicate).toBe(false);
    expect(first.message?.status).toBe(MessageStatus.MESSAGE_STATUS_QUEUED);
    expect(repeat.duplicate).toBe(true);
    expect(repeat.message?.id).toBe(first.message?.id);

    const got = await unary(c.messaging.getMessage.bind(c.messaging), GetMessageRequest.fromPartial({ messageId: first.message!.id }), metadata);
    expect(got.message).toMatchObject({ id: first.message!.id, accountId, to: "+14155552671" });
  });

  it("when it watches after an event id, then the stream replays and follows its message's statuses in order, each once", async () => {
    const c = grpcClients();
    const tenant = uniqueTenant("gjs");
    const metadata = tenantMetadata(tenant);
    const accountId = await sandboxAccount(c, metadata);
    const { message } = await unary(c.messaging.sendMessage.bind(c.messaging), templateSend(accountId), metadata);
    // The send's own transaction writes the first events (conversation
    // opened, contact created): resuming after the first of them is
    // deterministic, unlike racing a watch "from now" against the send.
    const [first] = await eventually("the tenant's first outbox event", async () => {
      const rows = await sql<{ id: string }[]>`select id from control.outbox where tenant_id = ${tenant} order by seq limit 1`;
      return rows.length > 0 ? rows : undefined;
    });

    const call = c.conversations.watchEvents(WatchEventsRequest.fromPartial({ afterEventId: first!.id, types: [EventType.EVENT_TYPE_MESSAGE_STATUS] }), metadata);
    const stream = collect(call);
    await eventually("the READ status on the watch", async () => (statusesOf(stream.responses, message!.id).includes(MessageStatus.MESSAGE_STATUS_READ) ? true : undefined), { timeoutMs: FLOW_MS });
    call.cancel();

    expect(statusesOf(stream.responses, message!.id)).toEqual([MessageStatus.MESSAGE_STATUS_SENT, MessageStatus.MESSAGE_STATUS_DELIVERED, MessageStatus.MESSAGE_STATUS_READ]);
    expect((await stream.ended)?.code).toBe(GrpcStatus.CANCELLED);
  }, FLOW_TEST_MS);

  it("when a watch's deadline passes, then the caller gets DEADLINE_EXCEEDED and the service logs DeadlineExceeded, not OK", async () => {
    const c = grpcClients();
    const tenant = uniqueTenant("gjs");
    const call = c.conversations.watchEvents(WatchEventsRequest.fromPartial({}), tenantMetadata(tenant), { deadline: new Date(Date.now() + 1_500) });
    const stream = collect(call);

    expect((await stream.ended)?.code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
    const line = await eventually("the WatchEvents log line", async () => rpcLine("whatsapp.v1.ConversationService/WatchEvents", tenant), { timeoutMs: 20_000 });
    expect(line.code).toBe("DeadlineExceeded");
  });

  it("when the caller cancels a watch, then the service logs it as Canceled, not OK", async () => {
    const c = grpcClients();
    const tenant = uniqueTenant("gjs");
    const metadata = tenantMetadata(tenant);
    const accountId = await sandboxAccount(c, metadata);
    const call = c.conversations.watchEvents(WatchEventsRequest.fromPartial({ accountId }), metadata);
    const stream = collect(call);
    // Cancel once the stream is live: after its first event.
    await unary(c.messaging.sendMessage.bind(c.messaging), templateSend(accountId), metadata);
    await eventually("the watch's first event", async () => (stream.responses.length > 0 ? true : undefined), { timeoutMs: FLOW_MS });
    call.cancel();

    expect((await stream.ended)?.code).toBe(GrpcStatus.CANCELLED);
    const line = await eventually("the WatchEvents log line", async () => rpcLine("whatsapp.v1.ConversationService/WatchEvents", tenant), { timeoutMs: 20_000 });
    expect(line.code).toBe("Canceled");
  }, FLOW_TEST_MS);

  it("when another tenant's metadata asks for a message, then it is NOT_FOUND: the tenant travels in the metadata", async () => {
    const c = grpcClients();
    const owner = tenantMetadata(uniqueTenant("gjs"));
    const accountId = await sandboxAccount(c, owner);
    const { message } = await unary(c.messaging.sendMessage.bind(c.messaging), templateSend(accountId), owner);

    const other = tenantMetadata(uniqueTenant("gjs"));
    const error = await unary(c.messaging.getMessage.bind(c.messaging), GetMessageRequest.fromPartial({ messageId: message!.id }), other).catch((e: ServiceError) => e);
    expect((error as ServiceError).code).toBe(GrpcStatus.NOT_FOUND);
  });

  it("when a request is invalid, then err.details is the service's message byte for byte (colons, semicolons, plus signs, non-ASCII) and its details decode", async () => {
    const c = grpcClients();
    const tenant = uniqueTenant("gjs");
    const metadata = tenantMetadata(tenant);
    // The map key lands in the violation's field path: non-ASCII, quotes, ':' and ';' in the message.
    const key = "clé:ü;1+1=2 ✓";
    const invalid = SendMessageRequest.fromPartial({
      accountId: "not-a-uuid",
      to: "call me",
      content: { $case: "text", text: { body: "hi" } },
      metadata: { [key]: "x".repeat(1025) },
    });
    const error = (await unary(c.messaging.sendMessage.bind(c.messaging), invalid, metadata).catch((e: ServiceError) => e)) as ServiceError;

    expect(error.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    const logged = await eventually("the SendMessage log line", async () => rpcLine("whatsapp.v1.MessagingService/SendMessage", tenant), { timeoutMs: 20_000 });
    expect(typeof logged.error).toBe("string");
    expect(error.details).toBe(logged.error);
    for (const fragment of ["account_id: ", "; to: ", "\\+?[1-9]", key]) expect(error.details).toContain(fragment);
    expect(error.details).not.toMatch(/%[0-9A-F]{2}/);

    const [bin] = error.metadata.get("grpc-status-details-bin");
    const status = Status.decode(bin as Buffer);
    expect(status.message).toBe(error.details);
    const detail = (type: string) => status.details.find((d) => d.typeUrl === `type.googleapis.com/${type}`)?.value;
    const badRequest = BadRequest.decode(detail("google.rpc.BadRequest")!);
    expect(badRequest.fieldViolations.map((v) => v.field)).toEqual(expect.arrayContaining(["account_id", "to", `metadata["${key}"]`]));
    expect(ErrorInfo.decode(detail("google.rpc.ErrorInfo")!).reason).toBe("INVALID_ARGUMENT");
  });

  it("when a watch stays idle across several keepalive pings, then the connection survives and the next event arrives", async () => {
    // Pings every 500 ms, each to be answered within 1 s: a server that did
    // not answer would have the channel closed (UNAVAILABLE) while idle.
    const keepalive = { "grpc.keepalive_time_ms": 500, "grpc.keepalive_timeout_ms": 1_000, "grpc.keepalive_permit_without_calls": 1 };
    const c = grpcClients(keepalive);
    const metadata = tenantMetadata(uniqueTenant("gjs"));
    const accountId = await sandboxAccount(c, metadata);
    const call = c.conversations.watchEvents(WatchEventsRequest.fromPartial({ accountId, types: [EventType.EVENT_TYPE_MESSAGE_STATUS] }), metadata);
    const stream = collect(call);
    let endedEarly: ServiceError | undefined | "open" = "open";
    void stream.ended.then((e) => (endedEarly = e));

    // The idle period is the scenario itself (about six ping intervals), not a wait for work.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(endedEarly).toBe("open");

    const { message } = await unary(c.messaging.sendMessage.bind(c.messaging), templateSend(accountId), metadata);
    await eventually("the message's first status on the watch", async () => (statusesOf(stream.responses, message!.id).length > 0 ? true : undefined), { timeoutMs: FLOW_MS });
    call.cancel();
    expect(statusesOf(stream.responses, message!.id)[0]).toBe(MessageStatus.MESSAGE_STATUS_SENT);
  }, FLOW_TEST_MS);
});

describe("grpc-js caller with a bearer token (AUTH_MODE=jwt)", () => {
  let jwtSvc: TestService;
  let accounts: AccountServiceClient;

  beforeAll(async () => {
    jwtSvc = await startTestService({ auth: "jwt" });
    accounts = new AccountServiceClient(new URL(jwtSvc.service.url).host, credentials.createInsecure());
  });

  afterAll(async () => {
    accounts?.close();
    await jwtSvc?.cleanup();
  });

  it("when the token travels as authorization metadata, then the call runs in the token's tenant", async () => {
    const tenant = uniqueTenant("jwt");
    const metadata = new Metadata();
    metadata.set("authorization", `Bearer ${await mintToken({ tenantId: tenant })}`);
    const { account } = await unary(
      accounts.createAccount.bind(accounts),
      CreateAccountRequest.fromPartial({ account: { provider: Provider.PROVIDER_SANDBOX, phoneNumberId: uniqueTenant("sbx"), displayName: "jwt" } }),
      metadata,
    );
    expect(account?.tenantId).toBe(tenant);
    const listed = await unary(accounts.listAccounts.bind(accounts), ListAccountsRequest.fromPartial({ pageSize: 10 }), metadata);
    expect(listed.accounts.map((a) => a.id)).toEqual([account!.id]);
  });

  it("when there is no token, then UNAUTHENTICATED with the service's text", async () => {
    const error = (await unary(accounts.listAccounts.bind(accounts), ListAccountsRequest.fromPartial({}), new Metadata()).catch((e: ServiceError) => e)) as ServiceError;
    expect(error.code).toBe(GrpcStatus.UNAUTHENTICATED);
    expect(error.details).toBe("invalid or missing bearer token");
  });
});
