/**
 * Acceptance 3b: the optional IAM check (seed 000 §4.2). The service asks IAM
 * with `action`, `account_id`, `company_id`, `user_id`, honours its answer,
 * caches it briefly, and when IAM is down does what IAM_FAILURE_MODE says.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AccountService, Provider } from "../../gen/whatsapp/v1/account_pb.js";
import { clientWithToken, closeClientSessions, mintToken, startTestService, uniqueTenant, type TestService } from "../support/service.js";

interface IamRequest {
  body: { action: string; account_id?: string; company_id: string; user_id?: string };
  authorization: string | undefined;
}

/** A stand-in IAM over real HTTP: allows unless told otherwise, or answers 503 while `down`. */
class FakeIam {
  requests: IamRequest[] = [];
  deny = new Set<string>();
  down = false;
  private server: Server = createServer((req, res) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () => {
      const body = JSON.parse(text) as IamRequest["body"];
      this.requests.push({ body, authorization: req.headers.authorization });
      if (this.down) return void res.writeHead(503).end();
      const allowed = !this.deny.has(body.action);
      const answer = { allowed, context: { company_id: body.company_id, role: "agent", permissions: [] } };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
    });
  });
  url = "";

  async start() {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/authorize`;
  }
  async stop() {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

async function codeOf(call: Promise<unknown>): Promise<{ code: Code | "OK"; message?: string }> {
  try {
    await call;
    return { code: "OK" };
  } catch (e) {
    const error = ConnectError.from(e);
    return { code: error.code, message: error.rawMessage };
  }
}

let phoneSeq = 0;
const nextPhoneNumberId = () => `30${Date.now() % 1_000_000_000}${(phoneSeq++).toString().padStart(3, "0")}`;

describe("IAM check with IAM_FAILURE_MODE=deny", () => {
  const iam = new FakeIam();
  let svc: TestService;
  const tenant = uniqueTenant("iam");
  let subjectSeq = 0;
  /** A fresh user per test, so one test's cached answers cannot serve another. */
  const subject = () => `user-${subjectSeq++}-${Date.now()}`;

  beforeAll(async () => {
    await iam.start();
    svc = await startTestService({ auth: "jwt", env: { IAM_URL: iam.url, IAM_FAILURE_MODE: "deny", IAM_CACHE_SECONDS: "60", IAM_TIMEOUT_MS: "2000" } });
  });
  afterAll(async () => {
    closeClientSessions();
    await svc?.cleanup();
    await iam.stop();
  });
  beforeEach(() => {
    iam.requests = [];
    iam.deny.clear();
    iam.down = false;
  });

  it("when IAM allows, then the call runs and IAM was asked seed 000's question with the caller's token", async () => {
    const user = subject();
    const token = await mintToken({ tenantId: tenant, subject: user });
    const client = clientWithToken(AccountService, svc.service.url, token);
    const account = (await client.createAccount({ account: { provider: Provider.SANDBOX, phoneNumberId: nextPhoneNumberId() } })).account!;
    await client.updateAccount({ account: { id: account.id, displayName: "x" }, updateMask: { paths: ["display_name"] } });
    await client.getAccount({ accountId: account.id });
    expect(iam.requests.map((r) => r.body)).toEqual([
      { action: "whatsapp:create_account", company_id: tenant, user_id: user },
      { action: "whatsapp:update_account", account_id: account.id, company_id: tenant, user_id: user },
      { action: "whatsapp:get_account", account_id: account.id, company_id: tenant, user_id: user },
    ]);
    expect(iam.requests.every((r) => r.authorization === `Bearer ${token}`)).toBe(true);
  });

  it("when IAM denies, then the call is PermissionDenied and never reaches the handler", async () => {
    iam.deny.add("whatsapp:create_account");
    const client = clientWithToken(AccountService, svc.service.url, await mintToken({ tenantId: tenant, subject: subject() }));
    const phoneNumberId = nextPhoneNumberId();
    expect(await codeOf(client.createAccount({ account: { provider: Provider.SANDBOX, phoneNumberId } }))).toEqual({
      code: Code.PermissionDenied,
      message: "permission denied",
    });
    expect((await client.listAccounts({ pageSize: 1000 })).accounts.map((a) => a.phoneNumberId)).not.toContain(phoneNumberId);
  });

  it("when the same question is asked again within IAM_CACHE_SECONDS, then IAM is asked once", async () => {
    const client = clientWithToken(AccountService, svc.service.url, await mintToken({ tenantId: tenant, subject: subject() }));
    for (let i = 0; i < 5; i++) await client.listAccounts({});
    expect(iam.requests).toHaveLength(1);
  });

  it("when the token lacks the RPC's permission, then IAM is not even asked", async () => {
    const client = clientWithToken(AccountService, svc.service.url, await mintToken({ tenantId: tenant, subject: subject(), permissions: ["whatsapp:read"] }));
    expect((await codeOf(client.deleteAccount({ accountId: "01900000-0000-7000-8000-000000000000" }))).code).toBe(Code.PermissionDenied);
    expect(iam.requests).toHaveLength(0);
  });

  it("when IAM is down, then calls are refused as Unavailable and the log says why", async () => {
    iam.down = true;
    const client = clientWithToken(AccountService, svc.service.url, await mintToken({ tenantId: tenant, subject: subject() }));
    expect(await codeOf(client.listAccounts({}))).toEqual({ code: Code.Unavailable, message: "authorization is temporarily unavailable" });
    expect(svc.logText()).toContain("IAM unreachable: refusing (IAM_FAILURE_MODE=deny)");
    // Failures are not cached: once IAM is back, the same caller gets through.
    iam.down = false;
    expect((await codeOf(client.listAccounts({}))).code).toBe("OK");
  });
});

describe("IAM check with IAM_FAILURE_MODE=allow", () => {
  const iam = new FakeIam();
  let svc: TestService;
  const tenant = uniqueTenant("iam-allow");

  beforeAll(async () => {
    await iam.start();
    iam.down = true;
    svc = await startTestService({ auth: "jwt", env: { IAM_URL: iam.url, IAM_FAILURE_MODE: "allow" } });
  });
  afterAll(async () => {
    closeClientSessions();
    await svc?.cleanup();
    await iam.stop();
  });

  it("when IAM is down, then a valid token with the right permission is allowed, and the log says so", async () => {
    const client = clientWithToken(AccountService, svc.service.url, await mintToken({ tenantId: tenant }));
    expect((await codeOf(client.listAccounts({}))).code).toBe("OK");
    expect(iam.requests.length).toBeGreaterThan(0);
    expect(svc.logText()).toContain("IAM unreachable: allowing on a valid token (IAM_FAILURE_MODE=allow)");
  });

  it("when IAM is down, then a token without the permission, or an invalid one, is still refused", async () => {
    const reader = clientWithToken(AccountService, svc.service.url, await mintToken({ tenantId: tenant, permissions: ["whatsapp:read"] }));
    expect((await codeOf(reader.createAccount({ account: { provider: Provider.SANDBOX, phoneNumberId: nextPhoneNumberId() } }))).code).toBe(Code.PermissionDenied);
    const expired = clientWithToken(AccountService, svc.service.url, await mintToken({ tenantId: tenant, expiresInSeconds: -600 }));
    expect((await codeOf(expired.listAccounts({}))).code).toBe(Code.Unauthenticated);
  });
});
