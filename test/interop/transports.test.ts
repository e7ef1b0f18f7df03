/**
 * The Connect-ES clients in gen/ (`createClient(Service, transport)`) over
 * each protocol the port speaks — Connect JSON on HTTP/1.1, Connect binary
 * on HTTP/2, gRPC, gRPC-Web — and Connect GET for read-only methods with a
 * plain HTTP client (curl), as a cache or KrakenD would call it: unary
 * calls, a server stream resumed after an event id, deadlines, errors.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { BadRequestSchema, ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AccountService, Provider } from "../../gen/whatsapp/v1/account_pb.js";
import { ConversationService } from "../../gen/whatsapp/v1/conversation_pb.js";
import { EventType } from "../../gen/whatsapp/v1/events_pb.js";
import { MessageStatus } from "../../gen/whatsapp/v1/message_pb.js";
import { GetMessageRequestSchema, MessagingService } from "../../gen/whatsapp/v1/messaging_pb.js";
import { eventually } from "../kit/eventually.js";
import { clientFor, closeClientSessions, startTestService, uniqueTenant, type Protocol, type TestService } from "../support/service.js";

const run = promisify(execFile);
let svc: TestService;
let sql: postgres.Sql;

beforeAll(async () => {
  svc = await startTestService();
  sql = postgres(svc.database.url, { max: 2, onnotice: () => {} });
});

afterAll(async () => {
  closeClientSessions();
  await sql?.end({ timeout: 5 });
  await svc?.cleanup();
});

function rpcLines(rpc: string, tenant: string): Record<string, unknown>[] {
  return svc
    .logText()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => (l.msg === "rpc" || l.msg === "rpc failed") && l.rpc === rpc && l.tenant === tenant);
}

const PROTOCOLS: Protocol[] = ["connect-json-h1", "connect-binary-h2", "grpc", "grpc-web"];

describe.each(PROTOCOLS)("Connect-ES client over %s", (protocol) => {
  it("when it creates and reads an account, then both calls answer with the account", async () => {
    const tenant = uniqueTenant("tr");
    const accounts = clientFor(AccountService, svc.service.url, tenant, protocol);
    const { account } = await accounts.createAccount({ account: { provider: Provider.SANDBOX, phoneNumberId: uniqueTenant("sbx"), displayName: "Transports" } });
    const got = await accounts.getAccount({ accountId: account!.id }, { timeoutMs: 5_000 });
    expect(got.account).toMatchObject({ id: account!.id, displayName: "Transports", provider: Provider.SANDBOX });
  });

  it("when a request is invalid, then the error's message is the service's exactly and ErrorInfo and BadRequest decode", async () => {
    const tenant = uniqueTenant("tr");
    const messaging = clientFor(MessagingService, svc.service.url, tenant, protocol);
    const key = "naïve:é;+1 ✓";
    const error = ConnectError.from(
      await messaging.sendMessage({ accountId: "nope", to: "+1", content: { case: "text", value: { body: "hi" } }, metadata: { [key]: "x".repeat(1025) } }).catch((e: unknown) => e),
    );
    expect(error.code).toBe(Code.InvalidArgument);
    const logged = await eventually("the SendMessage log line", async () => rpcLines("whatsapp.v1.MessagingService/SendMessage", tenant)[0], { timeoutMs: 20_000 });
    expect(error.rawMessage).toBe(logged.error);
    expect(error.rawMessage).toContain(`metadata["${key}"]`);
    expect(error.findDetails(ErrorInfoSchema)[0]?.reason).toBe("INVALID_ARGUMENT");
    expect(error.findDetails(BadRequestSchema)[0]?.fieldViolations.map((v) => v.field)).toEqual(expect.arrayContaining(["account_id", "to", `metadata["${key}"]`]));
  });

  it("when it watches after an event id, then the stream delivers the message's statuses from the outbox and live", async () => {
    const tenant = uniqueTenant("tr");
    const accounts = clientFor(AccountService, svc.service.url, tenant, protocol);
    const messaging = clientFor(MessagingService, svc.service.url, tenant, protocol);
    const conversations = clientFor(ConversationService, svc.service.url, tenant, protocol);
    const { account } = await accounts.createAccount({ account: { provider: Provider.SANDBOX, phoneNumberId: uniqueTenant("sbx"), displayName: "Watch" } });
    const { message } = await messaging.sendMessage({ accountId: account!.id, to: "+14155552671", content: { case: "template", value: { name: "hello_world", language: "en_US" } } });
    // The send's transaction wrote the first events; resume after the first (no race with "from now").
    const [first] = await eventually("the tenant's first outbox event", async () => {
      const rows = await sql<{ id: string }[]>`select id from control.outbox where tenant_id = ${tenant} order by seq limit 1`;
      return rows.length > 0 ? rows : undefined;
    });

    const statuses: MessageStatus[] = [];
    for await (const { event } of conversations.watchEvents({ afterEventId: first!.id, types: [EventType.MESSAGE_STATUS] }, { timeoutMs: 60_000 })) {
      if (event?.payload.case === "messageStatus" && event.payload.value.messageId === message!.id) statuses.push(event.payload.value.status);
      if (statuses.includes(MessageStatus.READ)) break;
    }
    expect(statuses).toEqual([MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ]);
  }, 120_000);

  it("when a watch has a deadline, then the stream ends with DeadlineExceeded and the service logs the same code", async () => {
    const tenant = uniqueTenant("tr");
    const conversations = clientFor(ConversationService, svc.service.url, tenant, protocol);
    const error = await (async () => {
      for await (const _ of conversations.watchEvents({}, { timeoutMs: 1_000 })) {
        /* a new tenant has no events */
      }
    })().catch((e: unknown) => ConnectError.from(e));
    expect(error?.code).toBe(Code.DeadlineExceeded);
    const line = await eventually("the WatchEvents log line", async () => rpcLines("whatsapp.v1.ConversationService/WatchEvents", tenant)[0], { timeoutMs: 20_000 });
    expect(line.code).toBe("DeadlineExceeded");
  });
});

describe("Connect GET on read-only methods", () => {
  async function sentMessage(tenant: string): Promise<string> {
    const accounts = clientFor(AccountService, svc.service.url, tenant);
    const messaging = clientFor(MessagingService, svc.service.url, tenant);
    const { account } = await accounts.createAccount({ account: { provider: Provider.SANDBOX, phoneNumberId: uniqueTenant("sbx"), displayName: "GET" } });
    const { message } = await messaging.sendMessage({ accountId: account!.id, to: "+14155552671", content: { case: "template", value: { name: "hello_world", language: "en_US" } } });
    return message!.id;
  }

  async function curl(args: string[]): Promise<{ status: number; headers: string; body: string }> {
    const { stdout } = await run("curl", ["-s", "-D", "-", ...args]);
    const [head = "", body = ""] = stdout.split("\r\n\r\n");
    return { status: Number(head.split(" ")[1]), headers: head.toLowerCase(), body };
  }

  it("when curl GETs GetMessage with the JSON message in the query, then it answers 200 with the message", async () => {
    const tenant = uniqueTenant("get");
    const messageId = await sentMessage(tenant);
    const query = new URLSearchParams({ connect: "v1", encoding: "json", message: JSON.stringify({ messageId }) });
    const res = await curl(["-H", `x-tenant-id: ${tenant}`, `${svc.service.url}/whatsapp.v1.MessagingService/GetMessage?${query}`]);

    expect(res.status).toBe(200);
    expect(res.headers).toContain("content-type: application/json");
    expect((JSON.parse(res.body) as { message: { id: string } }).message.id).toBe(messageId);
  });

  it("when the GET carries the binary message base64url-encoded, then it answers 200 too", async () => {
    const tenant = uniqueTenant("get");
    const messageId = await sentMessage(tenant);
    const bytes = Buffer.from(toBinary(GetMessageRequestSchema, { $typeName: "whatsapp.v1.GetMessageRequest", messageId })).toString("base64url");
    const res = await curl(["-H", `x-tenant-id: ${tenant}`, `${svc.service.url}/whatsapp.v1.MessagingService/GetMessage?connect=v1&encoding=proto&base64=1&message=${bytes}`]);
    expect(res.status).toBe(200);
  });

  it("when curl GETs a method with side effects (SendMessage), then it is refused with 405", async () => {
    const query = new URLSearchParams({ connect: "v1", encoding: "json", message: "{}" });
    const res = await curl(["-H", "x-tenant-id: get-refused", `${svc.service.url}/whatsapp.v1.MessagingService/SendMessage?${query}`]);
    expect(res.status).toBe(405);
  });
});
