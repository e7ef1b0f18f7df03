/**
 * Acceptance 2 of REST: the seed's table with plain HTTP requests (what curl
 * and KrakenD send) — each answer is the same proto3 JSON the RPC returns
 * for the same resource.
 */
import http2 from "node:http2";
import { create, toJson, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountSchema, GetAccountMetricsResponseSchema, GetAccountResponseSchema, type Account } from "../../gen/whatsapp/v1/account_pb.js";
import { GetConversationResponseSchema, ListConversationsResponseSchema, ListMessagesResponseSchema } from "../../gen/whatsapp/v1/conversation_pb.js";
import { GetMessageResponseSchema } from "../../gen/whatsapp/v1/messaging_pb.js";
import { OtpService, VerifyOtpResponseSchema } from "../../gen/whatsapp/v1/otp_pb.js";
import { GetTemplateResponseSchema, TemplateSchema, TemplateService, TemplateStatus } from "../../gen/whatsapp/v1/template_pb.js";
import { seedApprovedTemplate } from "../support/templates.js";
import { transportFor, tenantHeader } from "../support/service.js";
import { eventually } from "../kit/eventually.js";
import { createAccount, newWaId, receive, startHarness, tenantClients, type Harness, type Tenant } from "../conversations/support.js";
import { orderTemplate } from "../templates/harness.js";
import { rest, type RestAnswer } from "./support.js";

/** The RPC's answer as proto3 JSON, written as the REST routes write it (implicit defaults included). */
function json<D extends DescMessage>(schema: D, message: MessageShape<D>): unknown {
  return toJson(schema, message, { alwaysEmitImplicit: true });
}

describe("the seed's REST table with plain HTTP", () => {
  let harness: Harness;
  let tenant: Tenant;
  let headers: Record<string, string>;
  let metaAccount: Account;
  const call = (verb: string, path: string, body?: unknown): Promise<RestAnswer> => rest(harness.svc.service.url, verb, path, { headers, body });
  const ok = async (verb: string, path: string, body?: unknown) => {
    const answer = await call(verb, path, body);
    expect({ call: `${verb} ${path}`, status: answer.status, body: answer.status === 200 ? undefined : answer.json }).toEqual({ call: `${verb} ${path}`, status: 200, body: undefined });
    return answer.json;
  };

  beforeAll(async () => {
    harness = await startHarness();
    tenant = tenantClients(harness, "rest-seed");
    headers = { "x-tenant-id": tenant.id };
    metaAccount = await createAccount(tenant);
  });
  afterAll(async () => harness?.cleanup());

  it("when accounts are created, read, renamed and measured over REST, then each answer is the RPC's account", async () => {
    const created = (await ok("POST", "/api/accounts", { provider: "PROVIDER_SANDBOX", phone_number_id: `7${Date.now()}`, displayName: "Seed REST", credentials: { accessToken: "EAAG-never-shown" } })).account as Record<string, unknown>;
    expect(created).toMatchObject({ provider: "PROVIDER_SANDBOX", displayName: "Seed REST", credentialsSet: ["access_token"] });
    expect(JSON.stringify(created)).not.toContain("EAAG-never-shown");
    const id = created.id as string;
    expect(await ok("GET", `/api/accounts/${id}`)).toEqual(json(GetAccountResponseSchema, await tenant.accounts.getAccount({ accountId: id })));
    expect(created).toEqual(json(AccountSchema, (await tenant.accounts.getAccount({ accountId: id })).account!));

    const renamed = await ok("PUT", `/api/accounts/${id}?update_mask=display_name`, { displayName: "Seed REST renamed" });
    expect((renamed.account as Record<string, unknown>).displayName).toBe("Seed REST renamed");
    expect(renamed).toEqual(json(GetAccountResponseSchema, await tenant.accounts.getAccount({ accountId: id })));
    // PATCH (the additional binding) infers the mask from the body.
    const patched = await ok("PATCH", `/api/accounts/${id}`, { rateLimitPerSecond: 40 });
    expect(patched.account).toMatchObject({ displayName: "Seed REST renamed", rateLimitPerSecond: 40 });

    const metrics = await ok("GET", `/api/accounts/${metaAccount.id}/metrics`);
    const viaRpc = json(GetAccountMetricsResponseSchema, await tenant.accounts.getAccountMetrics({ accountId: metaAccount.id })) as Record<string, unknown>;
    expect(Object.keys(metrics).sort()).toEqual(Object.keys(viaRpc).sort());
  });

  it("when a contact writes and the business answers over REST, then messages and conversations read over REST are the RPC's", async () => {
    const waId = newWaId();
    await receive(harness, tenant, metaAccount, [{ from: waId, body: "Hola, ¿tienen envío?" }]);

    const sent = (await ok("POST", "/api/messages", { accountId: metaAccount.id, to: `+${waId}`, text: { body: "Sí, enviamos hoy" }, metadata: { order: "42" } })).message as Record<string, unknown>;
    expect(sent).toMatchObject({ direction: "MESSAGE_DIRECTION_OUTBOUND", metadata: { order: "42" } });
    expect(await ok("GET", `/api/messages/${sent.id as string}`)).toEqual(json(GetMessageResponseSchema, await tenant.messaging.getMessage({ messageId: sent.id as string })));

    const listed = await ok("GET", `/api/conversations?account_id=${metaAccount.id}&contact_phone=%2B${waId}&page_size=10`);
    const listedRpc = await tenant.conversations.listConversations({ accountId: metaAccount.id, contactPhone: `+${waId}`, pageSize: 10 });
    expect(listed).toEqual(json(ListConversationsResponseSchema, listedRpc));
    expect(listedRpc.conversations).toHaveLength(1);
    const conversationId = listedRpc.conversations[0]!.id;

    expect(await ok("GET", `/api/conversations/${conversationId}`)).toEqual(json(GetConversationResponseSchema, await tenant.conversations.getConversation({ conversationId })));
    const page = await ok("GET", `/api/conversations/${conversationId}/messages?page_size=50`);
    expect(page).toEqual(json(ListMessagesResponseSchema, await tenant.conversations.listMessages({ conversationId, pageSize: 50 })));
    expect((page.messages as unknown[]).length).toBe(2);
  });

  it("when a template is created and edited over REST, then the answers are the RPC's template", async () => {
    const sandbox = (await ok("POST", "/api/accounts", { provider: "PROVIDER_SANDBOX", phoneNumberId: `6${Date.now()}` })).account as Record<string, unknown>;
    const templates = createClient(TemplateService, transportFor(harness.svc.service.url, "connect-json-h1", [tenantHeader(tenant.id)]));
    const request = orderTemplate(sandbox.id as string);
    const created = (await ok("POST", "/api/templates", toJson(TemplateSchema, create(TemplateSchema, request.template)))).template as Record<string, unknown>;
    const id = created.id as string;
    // The sandbox may approve it at any moment after the answer: compare what review does not change.
    const beforeReview = ({ status: _s, approvedVersion: _a, statusUpdateTime: _t, updateTime: _u, ...rest }: Record<string, unknown>) => rest;
    expect(beforeReview(created)).toEqual(beforeReview(json(TemplateSchema, (await templates.getTemplate({ templateId: id })).template!) as Record<string, unknown>));
    expect(created.status).toMatch(/^TEMPLATE_STATUS_(PENDING|APPROVED)$/);

    // The sandbox approves through its own webhook; an approved template can be edited.
    await eventually("the sandbox to approve the template", async () => ((await templates.getTemplate({ templateId: id })).template!.status === TemplateStatus.APPROVED ? true : undefined));
    const edited = await ok("PUT", `/api/templates/${id}?update_mask=components`, { components: { body: { text: "Hola {{1}}, tu pedido {{2}} sale hoy.", examples: { positional: ["Ana", "#42"] } } } });
    expect((edited.template as Record<string, unknown>).version).toBe(2);
    expect(edited).toEqual(json(GetTemplateResponseSchema, await templates.getTemplate({ templateId: id })));
  });

  it("when a code is sent and verified over REST, then the answers are the RPC's shapes and the code verifies once", async () => {
    const sandbox = (await ok("POST", "/api/accounts", { provider: "PROVIDER_SANDBOX", phoneNumberId: `5${Date.now()}` })).account as Record<string, unknown>;
    await seedApprovedTemplate(harness.svc.database.url, tenant.id, { id: sandbox.id as string, wabaId: sandbox.wabaId as string }, {
      name: "verify_code",
      language: "en_US",
      category: "AUTHENTICATION",
      components: {
        body: { text: "", examples: { positional: [], named: {} }, addSecurityRecommendation: true },
        footer: { text: "", codeExpirationMinutes: 10 },
        buttons: [{ kind: "otp", otpType: "COPY_CODE", text: "Copy code", supportedApps: [] }],
      },
    });
    const phone = `+${newWaId()}`;
    const sent = await ok("POST", "/api/otp/send", { accountId: sandbox.id, phone, code: "482916", ttl: "300s", templateName: "verify_code" });
    expect(sent).toMatchObject({ otpId: expect.any(String) });
    const wrong = await ok("POST", "/api/otp/verify", { otpId: sent.otpId, code: "000000" });
    expect(wrong.outcome).toBe("OTP_OUTCOME_WRONG_CODE");
    const verified = await ok("POST", "/api/otp/verify", { otpId: sent.otpId, code: "482916" });
    expect(verified).toMatchObject({ outcome: "OTP_OUTCOME_VERIFIED", otpId: sent.otpId });
    // The same code again: single use, as over the RPC.
    const otp = createClient(OtpService, transportFor(harness.svc.service.url, "connect-json-h1", [tenantHeader(tenant.id)]));
    const again = await otp.verifyOtp({ target: { case: "otpId", value: sent.otpId as string }, code: "482916" });
    const againOverRest = await ok("POST", "/api/otp/verify", { otpId: sent.otpId, code: "482916" });
    expect(againOverRest.outcome).toBe((json(VerifyOtpResponseSchema, again) as Record<string, unknown>).outcome);
    expect(againOverRest.outcome).not.toBe("OTP_OUTCOME_VERIFIED");
  });

  it("when a REST route is called over cleartext HTTP/2 (prior knowledge), then it answers as over HTTP/1.1", async () => {
    const session = http2.connect(harness.svc.service.url);
    try {
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const stream = session.request({ ":method": "GET", ":path": `/api/accounts/${metaAccount.id}`, "x-tenant-id": tenant.id });
        let body = "";
        let status = 0;
        stream.on("response", (headers) => (status = Number(headers[":status"])));
        stream.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
        stream.on("end", () => resolve({ status, body }));
        stream.on("error", reject);
      });
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual(json(GetAccountResponseSchema, await tenant.accounts.getAccount({ accountId: metaAccount.id })));
    } finally {
      session.close();
    }
  });

  it("when an account is missing, a body is malformed or a route does not exist, then the answers are google.rpc.Status JSON with grpc-gateway's statuses", async () => {
    const missing = await call("GET", "/api/accounts/01900000-0000-7000-8000-000000000000");
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ code: 5, details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", domain: "whatsapp-service" }] });
    const invalid = await call("POST", "/api/messages", { accountId: "nope", to: "12", text: { body: "x" } });
    expect(invalid.status).toBe(400);
    expect(invalid.json.code).toBe(3);
    expect((invalid.json.details as { "@type": string; fieldViolations?: { field: string }[] }[]).find((d) => d["@type"].endsWith("google.rpc.BadRequest"))!.fieldViolations!.map((v) => v.field)).toEqual(
      expect.arrayContaining(["account_id", "to"]),
    );
    expect((await call("POST", "/api/messages", "{not json")).status).toBe(400);
    const huge = await call("POST", "/api/messages", JSON.stringify({ accountId: metaAccount.id, to: "+14155552671", text: { body: "x".repeat(5 * 1024 * 1024) } }));
    expect(huge).toMatchObject({ status: 413, json: { code: 8 } });
    const nowhere = await call("GET", "/api/nowhere");
    expect(nowhere).toMatchObject({ status: 404, json: { code: 5, message: "no route for GET /api/nowhere", details: [] } });
    const wrongMethod = await call("DELETE", "/api/messages/failed");
    expect(wrongMethod).toMatchObject({ status: 405, json: { code: 12 } });
    expect(wrongMethod.headers.get("allow")).toBe("GET");
  });
});
