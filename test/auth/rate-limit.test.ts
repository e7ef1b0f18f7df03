/**
 * Acceptance 3a: per-tenant request rate limits answer ResourceExhausted with
 * a retry delay, one tenant's flood does not touch another's budget, and the
 * limit holds in both auth modes.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AccountService } from "../../gen/whatsapp/v1/account_pb.js";
import { clientFor, clientWithToken, closeClientSessions, mintToken, startTestService, uniqueTenant, type TestService } from "../support/service.js";

/** Fires `count` calls at once and sorts the outcomes. */
async function flood(call: () => Promise<unknown>, count: number) {
  const outcomes = await Promise.all(
    Array.from({ length: count }, () =>
      call().then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      ),
    ),
  );
  return {
    ok: outcomes.filter((o) => o === undefined).length,
    refused: outcomes.filter((o): o is ConnectError => o !== undefined),
  };
}

// Rate 1/s, burst 3: 12 calls at once can only all pass if the machine takes 9 s to make them.
const LIMITS = { RATE_LIMIT_PER_SECOND: "1", RATE_LIMIT_BURST: "3" };

describe("per-tenant rate limits (AUTH_MODE=jwt)", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ auth: "jwt", env: LIMITS });
  });
  afterAll(async () => {
    closeClientSessions();
    await svc?.cleanup();
  });

  it("when a tenant sends more than its burst at once, then the excess is ResourceExhausted with a retry delay, and another tenant is unaffected", async () => {
    const noisy = clientWithToken(AccountService, svc.service.url, await mintToken({ tenantId: uniqueTenant("noisy") }));
    const { ok, refused } = await flood(() => noisy.listAccounts({}), 12);
    expect(ok).toBeGreaterThanOrEqual(3);
    expect(refused.length).toBeGreaterThan(0);
    for (const error of refused) {
      expect(error.code).toBe(Code.ResourceExhausted);
      expect(error.rawMessage).toBe("request rate limit exceeded for this tenant");
      expect(error.findDetails(ErrorInfoSchema)[0]?.reason).toBe("RATE_LIMITED");
      const delay = error.findDetails(RetryInfoSchema)[0]?.retryDelay;
      expect(Number(delay?.seconds ?? 0) * 1e9 + (delay?.nanos ?? 0)).toBeGreaterThan(0);
    }

    const quiet = clientWithToken(AccountService, svc.service.url, await mintToken({ tenantId: uniqueTenant("quiet") }));
    await expect(quiet.listAccounts({})).resolves.toBeDefined();
  });

  it("when a plain HTTP JSON caller is limited, then it gets 429 with Retry-After", async () => {
    const token = await mintToken({ tenantId: uniqueTenant("http") });
    const statuses: { status: number; retryAfter: string | null }[] = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const response = await fetch(`${svc.service.url}/whatsapp.v1.AccountService/ListAccounts`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: "{}",
        });
        await response.text();
        return { status: response.status, retryAfter: response.headers.get("retry-after") };
      }),
    );
    const limited = statuses.filter((s) => s.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited.every((s) => Number(s.retryAfter) >= 1)).toBe(true);
  });

  it("when calls are refused for a bad token, then they do not spend the tenant's budget", async () => {
    const tenant = uniqueTenant("spared");
    const forged = clientWithToken(AccountService, svc.service.url, await mintToken({ tenantId: tenant, secret: "not-the-service-secret-but-32-bytes-long" }));
    const { refused } = await flood(() => forged.listAccounts({}), 10);
    expect(refused.every((e) => e.code === Code.Unauthenticated)).toBe(true);
    await expect(clientWithToken(AccountService, svc.service.url, await mintToken({ tenantId: tenant })).listAccounts({})).resolves.toBeDefined();
  });
});

describe("per-tenant rate limits (AUTH_MODE=none)", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ env: LIMITS });
  });
  afterAll(async () => {
    closeClientSessions();
    await svc?.cleanup();
  });

  it("when the x-tenant-id tenant sends more than its burst, then the excess is ResourceExhausted", async () => {
    const client = clientFor(AccountService, svc.service.url, uniqueTenant("header"));
    const { ok, refused } = await flood(() => client.listAccounts({}), 12);
    expect(ok).toBeGreaterThanOrEqual(3);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((e) => e.code === Code.ResourceExhausted)).toBe(true);
  });
});
