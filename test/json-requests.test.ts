/**
 * How JSON requests are read: proto3 JSON strictly (an unknown enum name or
 * field name is refused with InvalidArgument naming it — never silently
 * defaulted or dropped), and phone numbers as Meta issues them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { Provider } from "../gen/whatsapp/v1/account_pb.js";
import { AccountService } from "../gen/whatsapp/v1/account_pb.js";
import { clientFor, closeClientSessions, startTestService, uniqueTenant, type TestService } from "./support/service.js";

let svc: TestService;

beforeAll(async () => {
  svc = await startTestService({ env: { WORKERS: "none" } });
});

afterAll(async () => {
  closeClientSessions();
  await svc?.cleanup();
});

interface ConnectErrorBody {
  code: string;
  message: string;
}

async function postJson(path: string, tenantId: string, body: string): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${svc.service.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-tenant-id": tenantId },
    body,
  });
  return { status: response.status, json: await response.json() };
}

const phoneNumberId = () => `9${Date.now() % 1_000_000_000}${Math.floor(Math.random() * 1000)}`;

describe("JSON requests", () => {
  it("when an enum field carries an unknown name, then the request is InvalidArgument naming that field and nothing is queued", async () => {
    const tenant = uniqueTenant("jsonenum");
    const { status, json } = await postJson(
      "/whatsapp.v1.MessagingService/SendMessage",
      tenant,
      JSON.stringify({ accountId: "0190b0f8-0000-7000-8000-000000000000", to: "+14155552671", text: { body: "hi" }, priority: "PRIORITY_NOPE" }),
    );
    expect(status).toBe(400);
    const error = json as ConnectErrorBody;
    expect(error.code).toBe("invalid_argument");
    expect(error.message).toContain("priority");
    expect(error.message).toContain("PRIORITY_NOPE");
  });

  it("when the provider is an unknown name, then CreateAccount says so for the provider field (not 'must be set')", async () => {
    const tenant = uniqueTenant("jsonprov");
    const { status, json } = await postJson(
      "/whatsapp.v1.AccountService/CreateAccount",
      tenant,
      JSON.stringify({ account: { provider: "PROVIDER_BOGUS", phoneNumberId: phoneNumberId(), displayName: "x" } }),
    );
    expect(status).toBe(400);
    const error = json as ConnectErrorBody;
    expect(error.code).toBe("invalid_argument");
    expect(error.message).toContain("provider");
    expect(error.message).toContain("PROVIDER_BOGUS");
    expect(error.message).not.toContain("must be set");
    const list = await clientFor(AccountService, svc.service.url, tenant).listAccounts({});
    expect(list.accounts).toHaveLength(0);
  });

  it("when a field name is unknown (a typo), then the request is refused naming the key", async () => {
    const tenant = uniqueTenant("jsonkey");
    const { status, json } = await postJson(
      "/whatsapp.v1.AccountService/CreateAccount",
      tenant,
      JSON.stringify({ account: { provider: "PROVIDER_SANDBOX", phoneNumberId: phoneNumberId(), displayName: "x", displayNmae: "typo" } }),
    );
    expect(status).toBe(400);
    expect((json as ConnectErrorBody).message).toContain("displayNmae");
  });

  it("when enums come by name, by number, and fields by their original proto names, then the request is read", async () => {
    const tenant = uniqueTenant("jsonok");
    const byName = await postJson(
      "/whatsapp.v1.AccountService/CreateAccount",
      tenant,
      JSON.stringify({ account: { provider: "PROVIDER_SANDBOX", phone_number_id: phoneNumberId(), display_name: "by name" } }),
    );
    expect(byName.status).toBe(200);
    const byNumber = await postJson(
      "/whatsapp.v1.AccountService/CreateAccount",
      tenant,
      JSON.stringify({ account: { provider: Provider.SANDBOX, phoneNumberId: phoneNumberId(), displayName: "by number" } }),
    );
    expect(byNumber.status).toBe(200);
  });

  it("when the display number is one of Meta's +1 555 test numbers, then CreateAccount accepts it", async () => {
    const tenant = uniqueTenant("json555");
    const { account } = await clientFor(AccountService, svc.service.url, tenant).createAccount({
      account: { provider: Provider.META, phoneNumberId: phoneNumberId(), displayName: "Test number", displayPhoneNumber: "+15550783881", credentials: { accessToken: "t" } },
    });
    expect(account?.displayPhoneNumber).toBe("+15550783881");
  });
});
