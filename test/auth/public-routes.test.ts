/**
 * In AUTH_MODE=jwt the server's own endpoints stay public: HTTP health for
 * load balancers, gRPC health, server reflection (the schema only) and the
 * Meta webhook, which is signed instead of bearer-authenticated.
 */
import { execFile } from "node:child_process";
import { createHmac } from "node:crypto";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { clientWithToken, closeClientSessions, startTestService, type TestService } from "../support/service.js";

const run = promisify(execFile);
const BUF = path.resolve(import.meta.dirname, "../../node_modules/.bin/buf");
const VERIFY_TOKEN = "public-routes-verify-token";
const APP_SECRET = "public-routes-app-secret";

describe("public routes with AUTH_MODE=jwt", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ auth: "jwt", env: { META_VERIFY_TOKEN: VERIFY_TOKEN, META_APP_SECRET: APP_SECRET } });
  });
  afterAll(async () => {
    closeClientSessions();
    await svc?.cleanup();
  });

  it("when /health and /health/db are asked without a token, then both answer 200", async () => {
    for (const route of ["/health", "/health/db"]) {
      const response = await fetch(`${svc.service.url}${route}`);
      await response.text();
      expect({ route, status: response.status }).toEqual({ route, status: 200 });
    }
  });

  it("when gRPC health is checked without a token, then it answers SERVING", async () => {
    const health = clientWithToken(Health, svc.service.url, undefined);
    expect((await health.check({})).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });

  it("when buf curl lists methods through reflection without a token, then it gets them", async () => {
    const { stdout } = await run(BUF, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "--list-methods", svc.service.url]);
    expect(stdout).toContain("whatsapp.v1.AccountService/CreateAccount");
  });

  it("when Meta verifies the webhook without a bearer token, then it gets its challenge back", async () => {
    const response = await fetch(`${svc.service.url}/webhook?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("1158201444");
  });

  it("when Meta posts a signed delivery without a bearer token, then it is accepted; unsigned, it is refused by the signature check", async () => {
    const body = JSON.stringify({ object: "whatsapp_business_account", entry: [] });
    const signature = `sha256=${createHmac("sha256", APP_SECRET).update(body).digest("hex")}`;
    const signed = await fetch(`${svc.service.url}/webhook`, { method: "POST", headers: { "content-type": "application/json", "x-hub-signature-256": signature }, body });
    expect(signed.status).toBe(200);
    expect(await signed.json()).toEqual({ status: "received" });
    const unsigned = await fetch(`${svc.service.url}/webhook`, { method: "POST", headers: { "content-type": "application/json" }, body });
    await unsigned.text();
    expect(unsigned.status).toBe(401);
  });
});
