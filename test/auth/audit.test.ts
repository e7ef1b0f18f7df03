/**
 * An audit line for every mutation — who, tenant, what, result — including
 * the ones access control refused; none for reads; never a body, credential
 * or token.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService, Provider } from "../../gen/whatsapp/v1/account_pb.js";
import { MessagingService } from "../../gen/whatsapp/v1/messaging_pb.js";
import { clientWithToken, closeClientSessions, mintToken, startTestService, uniqueTenant, type TestService } from "../support/service.js";

const CREDENTIAL = "EAAG-audit-credential-never-logged";
const BODY_TEXT = "hello from the audit test, a message body";

interface AuditLine {
  audit: true;
  actor: string | null;
  tenant: string | null;
  rpc: string;
  accountId?: string;
  tokenId?: string;
  code: string;
}

describe("audit log", () => {
  let svc: TestService;
  const tenant = uniqueTenant("audit");

  beforeAll(async () => {
    svc = await startTestService({ auth: "jwt" });
  });
  afterAll(async () => {
    closeClientSessions();
    await svc?.cleanup();
  });

  const auditLines = (): AuditLine[] =>
    svc
      .logText()
      .split("\n")
      .filter((l) => l.includes('"audit":true'))
      .map((l) => JSON.parse(l) as AuditLine);

  const refusal = (call: Promise<unknown>) =>
    call.then(
      () => undefined,
      (e: unknown) => ConnectError.from(e).code,
    );

  it("when mutations succeed, fail or are refused, then each has one line with actor, tenant, rpc, account and code", async () => {
    const adminToken = await mintToken({ tenantId: tenant, subject: "alice" });
    const admin = clientWithToken(AccountService, svc.service.url, adminToken, "connect-json-h1");
    const created = (
      await admin.createAccount({ account: { provider: Provider.META, phoneNumberId: `40${Date.now()}`, credentials: { accessToken: CREDENTIAL } } })
    ).account!;

    const reader = clientWithToken(AccountService, svc.service.url, await mintToken({ tenantId: tenant, subject: "bob", permissions: ["whatsapp:read"] }));
    expect(await refusal(reader.updateAccount({ account: { id: created.id, displayName: "x" }, updateMask: { paths: ["display_name"] } }))).toBe(Code.PermissionDenied);

    const anonymous = clientWithToken(AccountService, svc.service.url, undefined);
    expect(await refusal(anonymous.deleteAccount({ accountId: created.id }))).toBe(Code.Unauthenticated);

    const sender = clientWithToken(MessagingService, svc.service.url, await mintToken({ tenantId: tenant, subject: "orchestrator" }));
    await refusal(sender.sendMessage({ accountId: created.id, to: "+14155552671", content: { case: "text", value: { body: BODY_TEXT } } }));

    const lines = auditLines();
    const rpcOf = (line: AuditLine) => line.rpc.split("/")[1];
    expect(lines.map((l) => ({ rpc: rpcOf(l), actor: l.actor, tenant: l.tenant, accountId: l.accountId, code: l.code }))).toEqual([
      { rpc: "CreateAccount", actor: "alice", tenant, accountId: undefined, code: "OK" },
      { rpc: "UpdateAccount", actor: "bob", tenant, accountId: created.id, code: "PermissionDenied" },
      { rpc: "DeleteAccount", actor: null, tenant: null, accountId: created.id, code: "Unauthenticated" },
      { rpc: "SendMessage", actor: "orchestrator", tenant, accountId: created.id, code: expect.stringMatching(/^(OK|Unimplemented|InvalidArgument|FailedPrecondition)$/) },
    ]);
    expect(lines[0]?.tokenId).toMatch(/^[0-9a-f]{16}$/);

    const auditText = svc.logText().split("\n").filter((l) => l.includes('"audit":true')).join("\n");
    for (const secret of [CREDENTIAL, BODY_TEXT, adminToken, "+14155552671"]) expect(auditText).not.toContain(secret);
  });

  it("when reads are made, then they have no audit line", async () => {
    const before = auditLines().length;
    const client = clientWithToken(AccountService, svc.service.url, await mintToken({ tenantId: tenant }));
    await client.listAccounts({});
    await refusal(client.getAccount({ accountId: "01900000-0000-7000-8000-000000000000" }));
    expect(auditLines()).toHaveLength(before);
  });
});
