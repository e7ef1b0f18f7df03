/**
 * Acceptance 1 of REST: every route of every RPC in gen/whatsapp/v1 is served
 * at its annotated path and method, behind the same bearer-token auth as the
 * RPCs (no token, forged, other tenant, missing permission → 401/401/404/403
 * with a google.rpc.Status JSON body), and a valid call gets exactly the
 * outcome the same RPC gets over Connect — one pipeline, not a copy.
 */
import { createClient, Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService, Provider, type Account } from "../../gen/whatsapp/v1/account_pb.js";
import { accessRuleFor } from "../../src/adapters/auth/permissions.js";
import { bindRequest } from "../../src/adapters/http/rest/binder.js";
import { registryFor } from "../../src/adapters/http/rest/gateway.js";
import type { RestRoute, RouteTable } from "../../src/adapters/http/rest/route-table.js";
import { HTTP_STATUS_OF_CODE } from "../../src/adapters/http/rest/status.js";
import { ALL_PERMISSIONS, bearer, clientWithToken, closeClientSessions, mintToken, startTestService, transportFor, uniqueTenant, type TestService } from "../support/service.js";
import { apiRouteTable, apiServices, detailTypes, fillPath, rest } from "./support.js";

const ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo";
const MISSING_ID = "01900000-0000-7000-8000-000000000000";

let phoneSeq = 0;
const nextPhoneNumberId = () => `30${Date.now() % 1_000_000_000}${(phoneSeq++).toString().padStart(3, "0")}`;

function permissionOf(route: RestRoute): string {
  const rule = accessRuleFor(route.service.typeName, route.method.name);
  if (rule?.kind !== "tenant") throw new Error(`no tenant rule for ${route.method.name}`);
  return rule.permission;
}

const label = (route: RestRoute) => `${route.verb} ${route.template.source} (${route.method.name})`;

describe("every REST route behind bearer-token auth", () => {
  let svc: TestService;
  let table: RouteTable;
  const tenantA = uniqueTenant("rest-walk-a");
  const tenantB = uniqueTenant("rest-walk-b");
  let accountA: Account;

  beforeAll(async () => {
    table = await apiRouteTable();
    svc = await startTestService({ auth: "jwt", env: { RATE_LIMIT_PER_SECOND: "0" } });
    const admin = clientWithToken(AccountService, svc.service.url, await mintToken({ tenantId: tenantA }), "connect-json-h1");
    accountA = (await admin.createAccount({ account: { provider: Provider.SANDBOX, phoneNumberId: nextPhoneNumberId(), displayName: "Acme REST walk" } })).account!;
  });
  afterAll(async () => {
    closeClientSessions();
    await svc?.cleanup();
  });

  /** Path and body naming tenant A's account wherever the route takes one; another id elsewhere. */
  function requestFor(route: RestRoute, accountId = accountA.id): { path: string; body: unknown } {
    const path = fillPath(route, (field) => (field === "account_id" || field === "account.id" ? accountId : MISSING_ID));
    const name = route.method.name;
    let query = "";
    let body: unknown = route.body === undefined ? undefined : {};
    if (name === "CreateAccount") body = { provider: "PROVIDER_SANDBOX", phoneNumberId: nextPhoneNumberId(), displayName: "walker" };
    if (name === "UpdateAccount") {
      body = { displayName: "Acme REST walk" };
      if (route.verb === "PUT") query = "?update_mask=display_name";
    }
    if (name === "ListAccounts") query = "?page_size=1000";
    return { path: `${path}${query}`, body };
  }

  it("when the routes are compiled from gen/, then every RPC of every API service has at least one", async () => {
    for (const service of await apiServices()) {
      for (const method of service.methods) expect(table.routes.some((r) => r.method === method), `${service.name}/${method.name}`).toBe(true);
    }
  });

  const refusals: [string, () => Promise<string | undefined>][] = [
    ["no token", async () => undefined],
    ["a forged signature", () => mintToken({ tenantId: tenantA, secret: "an-attackers-own-secret-of-32-bytes-or-more" })],
    ["an expired token", () => mintToken({ tenantId: tenantA, expiresInSeconds: -3600 })],
  ];
  for (const [situation, token] of refusals) {
    it(`when every REST route is called with ${situation}, then each is 401 with a Status body (code 16, ErrorInfo UNAUTHENTICATED) and no data`, async () => {
      const bearerToken = await token();
      for (const route of table.routes) {
        const { path, body } = requestFor(route);
        const answer = await rest(svc.service.url, route.verb, path, { token: bearerToken, body });
        expect({ route: label(route), status: answer.status }).toEqual({ route: label(route), status: 401 });
        expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
        expect(answer.json).toMatchObject({ code: Code.Unauthenticated, message: "invalid or missing bearer token" });
        expect(detailTypes(answer.json)).toEqual([ERROR_INFO]);
        expect(answer.text).not.toContain("Acme REST walk");
      }
    });
  }

  it("when every REST route is called with a token lacking its permission, then each is 403 (code 7) naming the permission", async () => {
    for (const route of table.routes) {
      const needed = permissionOf(route);
      const token = await mintToken({ tenantId: tenantA, permissions: ALL_PERMISSIONS.filter((p) => p !== needed) });
      const { path, body } = requestFor(route);
      const answer = await rest(svc.service.url, route.verb, path, { token, body });
      expect({ route: label(route), status: answer.status }).toEqual({ route: label(route), status: 403 });
      expect(answer.json).toMatchObject({ code: Code.PermissionDenied, message: `permission denied: requires ${needed}` });
    }
  });

  it("when tenant B's token names tenant A's account on a REST route, then it is 404 exactly like an id that does not exist", async () => {
    const tokenB = await mintToken({ tenantId: tenantB });
    const accountRoutes = table.routes.filter((r) => r.pathFields.some((p) => p.fieldPath === "account_id" || p.fieldPath === "account.id"));
    expect(accountRoutes.map((r) => r.method.name).sort()).toEqual(["DeleteAccount", "GetAccount", "GetAccountMetrics", "UpdateAccount", "UpdateAccount"]);
    for (const route of accountRoutes) {
      const onA = requestFor(route, accountA.id);
      const onMissing = requestFor(route, MISSING_ID);
      const a = await rest(svc.service.url, route.verb, onA.path, { token: tokenB, body: onA.body });
      const missing = await rest(svc.service.url, route.verb, onMissing.path, { token: tokenB, body: onMissing.body });
      expect({ route: label(route), status: a.status }).toEqual({ route: label(route), status: 404 });
      expect(a.text.replace(accountA.id, "<id>")).toBe(missing.text.replace(MISSING_ID, "<id>"));
    }
    const stillA = await rest(svc.service.url, "GET", `/api/accounts/${accountA.id}`, { token: await mintToken({ tenantId: tenantA }) });
    expect((stillA.json.account as Record<string, unknown>).displayName).toBe("Acme REST walk");
  });

  it("when every REST route is called with only the permission it needs, then it gets the very outcome of the same RPC over Connect", async () => {
    const registry = registryFor(await apiServices());
    for (const route of table.routes) {
      const token = await mintToken({ tenantId: tenantA, permissions: [permissionOf(route)] });
      const admin = await mintToken({ tenantId: tenantA });
      let { path, body } = requestFor(route);
      if (route.method.name === "DeleteAccount") {
        // Two throwaway accounts: one deleted over REST, one over Connect.
        const ids = await Promise.all([throwawayAccount(admin), throwawayAccount(admin)]);
        ({ path, body } = requestFor(route, ids[0]));
        const answer = await rest(svc.service.url, route.verb, path, { token, body });
        const viaConnect = await callConnect(route, token, requestFor(route, ids[1]), registry);
        expect({ route: label(route), status: answer.status }).toEqual({ route: label(route), status: viaConnect });
        continue;
      }
      if (route.method.name === "CreateAccount") {
        const answer = await rest(svc.service.url, route.verb, path, { token, body });
        expect({ route: label(route), status: answer.status }).toEqual({ route: label(route), status: 200 });
        expect((answer.json.account as Record<string, unknown>).provider).toBe("PROVIDER_SANDBOX");
        continue;
      }
      const answer = await rest(svc.service.url, route.verb, path, { token, body });
      if (route.method.methodKind === "server_streaming") {
        // Admitted: the event stream opened (refusals are plain errors, tested above).
        expect({ route: label(route), status: answer.status, type: answer.headers.get("content-type") }).toEqual({ route: label(route), status: 200, type: "text/event-stream; charset=utf-8" });
        continue;
      }
      const viaConnect = await callConnect(route, token, { path, body }, registry);
      expect({ route: label(route), status: answer.status, code: answer.json.code }).toMatchObject({ route: label(route), status: viaConnect });
      if (route.service.typeName === AccountService.typeName) expect({ route: label(route), status: answer.status }).toEqual({ route: label(route), status: 200 });
      if (answer.status !== 200) expect(answer.json.code, label(route)).not.toBe(Code.Unauthenticated);
    }
  });

  async function throwawayAccount(token: string): Promise<string> {
    const admin = clientWithToken(AccountService, svc.service.url, token, "connect-json-h1");
    return (await admin.createAccount({ account: { provider: Provider.SANDBOX, phoneNumberId: nextPhoneNumberId() } })).account!.id;
  }

  /** The HTTP status the same unary request gets as an RPC over Connect (200 when it succeeds). */
  async function callConnect(route: RestRoute, token: string, request: { path: string; body: unknown }, registry: ReturnType<typeof registryFor>): Promise<number> {
    const [path, query = ""] = request.path.split("?");
    const match = table.match(route.verb, path!);
    if (match.kind !== "route") throw new Error(`${request.path}: ${match.kind}`);
    const message = bindRequest(match.route, { pathValues: match.pathValues, query: new URLSearchParams(query), body: request.body === undefined ? "" : JSON.stringify(request.body) }, registry);
    const client = createClient(route.service, transportFor(svc.service.url, "connect-json-h1", [bearer(token)])) as unknown as Record<string, (req: unknown, options?: object) => unknown>;
    try {
      await client[route.method.localName]!(message);
      return 200;
    } catch (e) {
      return HTTP_STATUS_OF_CODE[ConnectError.from(e).code];
    }
  }
});
