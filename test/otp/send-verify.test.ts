/**
 * SendOtp and VerifyOtp against the real service and PostgreSQL (the sender
 * is off: the code's message stays queued where the tests can read it). The
 * clock is injected: expiry and cooldowns are tested by moving it forward.
 */
import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { ErrorInfoSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import type { Account } from "../../gen/whatsapp/v1/account_pb.js";
import { OtpVerificationMethod } from "../../gen/whatsapp/v1/events_pb.js";
import { OtpOutcome } from "../../gen/whatsapp/v1/otp_pb.js";
import { OtpButton_OtpType, TemplateCategory, TemplateService, TemplateStatus } from "../../gen/whatsapp/v1/template_pb.js";
import { Provider } from "../../gen/whatsapp/v1/account_pb.js";
import { clientFor } from "../support/service.js";
import { PRIORITY_RANK } from "../../src/domain/priority.js";
import { SEALED_CODE_PREFIX, sealedCodeBinding } from "../../src/domain/otp/sealed-code.js";
import {
  approveAuthTemplate,
  AUTH_TEMPLATE,
  createOtpAccount,
  everythingStored,
  messageContent,
  newRecipient,
  otpEvents,
  otpRow,
  otpTenant,
  startOtpHarness,
  type OtpHarness,
  type OtpTenant,
} from "./support.js";
import { refusal } from "../support/refusal.js";
import { eventually } from "../kit/eventually.js";

let harness: OtpHarness;
let tenant: OtpTenant;
let account: Account;
/** Every code a test sent: none may show up in logs, events or rows. */
const codesUsed: string[] = [];

/** A code no other test uses (8 digits: unlikely to occur by chance in ids or times). */
function newCode(): string {
  const code = String(10_000_000 + Math.floor(Math.random() * 89_999_999));
  codesUsed.push(code);
  return code;
}

beforeAll(async () => {
  harness = await startOtpHarness({ env: { OTP_MAX_PER_PHONE_PER_HOUR: "3", OTP_MAX_PER_TENANT_PER_MINUTE: "8" } });
  tenant = otpTenant(harness, "otp");
  account = await createOtpAccount(harness, tenant);
});

afterAll(async () => {
  await harness?.cleanup();
});

function send(t: OtpTenant, a: Account, phone: string, extra: { code?: string; requestId?: string; ttlSeconds?: number; metadata?: Record<string, string>; templateName?: string; codeLength?: number } = {}) {
  return t.otp.sendOtp({
    accountId: a.id,
    phone,
    code: extra.code ?? "",
    codeLength: extra.codeLength ?? 0,
    templateName: extra.templateName ?? AUTH_TEMPLATE,
    requestId: extra.requestId ?? "",
    metadata: extra.metadata ?? {},
    ...(extra.ttlSeconds ? { ttl: { seconds: BigInt(extra.ttlSeconds) } } : {}),
  });
}

/** The template parameters of a queued OTP message, as stored. */
function storedParameters(content: unknown): string[] {
  const template = (content as { template: { components: { parameters: { text: string }[] }[] } }).template;
  return template.components.flatMap((c) => c.parameters.map((p) => p.text));
}

describe("SendOtp", () => {
  it("when a code is given, then the AUTHENTICATION template is queued at OTP priority with the code sealed, and only its hash is stored", async () => {
    const phone = newRecipient();
    const code = newCode();
    const before = harness.clock.now();
    const res = await send(tenant, account, phone, { code, metadata: { session: "s-1" } });

    expect(res.otpId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.phone).toBe(phone);
    expect(res.maxAttempts).toBe(5);
    const expire = Number(res.expireTime!.seconds) * 1000;
    expect(expire).toBeGreaterThanOrEqual(before.getTime() + 10 * 60_000 - 1_000);
    expect(expire).toBeLessThanOrEqual(harness.clock.now().getTime() + 10 * 60_000);
    expect(Number(res.resendAvailableTime!.seconds) * 1000).toBeGreaterThanOrEqual(before.getTime() + 60_000 - 1_000);

    const row = (await otpRow(harness, tenant, res.otpId))!;
    expect(row).toMatchObject({ state: "pending", attempts: 0, max_attempts: 5, code_length: 8, wa_id: phone.slice(1), message_id: res.messageId, template_name: AUTH_TEMPLATE, template_language: "en_US" });
    expect(row.metadata).toEqual({ session: "s-1" });
    expect(row.code_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(code);

    const message = await messageContent(harness, tenant, res.messageId);
    expect(message).toMatchObject({ type: "template", priority: "otp", status: "queued" });
    expect(message.content).toMatchObject({
      type: "template",
      template: { name: AUTH_TEMPLATE, language: { code: "en_US" }, components: [{ type: "body" }, { type: "button", sub_type: "url", index: "0" }] },
    });
    const parameters = storedParameters(message.content);
    expect(parameters).toHaveLength(2);
    for (const p of parameters) expect(p.startsWith(SEALED_CODE_PREFIX)).toBe(true);
    // The sealed value is the code, for this recipient only.
    const box = harness.svc.service.app.secretBox;
    expect(box.open(parameters[0]!.slice(SEALED_CODE_PREFIX.length), sealedCodeBinding(phone.slice(1)))).toBe(code);
    expect(() => box.open(parameters[0]!.slice(SEALED_CODE_PREFIX.length), sealedCodeBinding("14155550000"))).toThrow();

    const jobs = await harness.sql<{ priority: number }[]>`select priority from control.jobs where payload->>'messageId' = ${res.messageId}`;
    expect(jobs).toEqual([{ priority: PRIORITY_RANK.otp }]);
  });

  it("when no code is given, then one of code_length digits is generated, and it verifies", async () => {
    const phone = newRecipient();
    const res = await send(tenant, account, phone, { codeLength: 4 });
    const message = await messageContent(harness, tenant, res.messageId);
    const [sealed] = storedParameters(message.content);
    const code = harness.svc.service.app.secretBox.open(sealed!.slice(SEALED_CODE_PREFIX.length), sealedCodeBinding(phone.slice(1)));
    expect(code).toMatch(/^[0-9]{4}$/);
    expect((await otpRow(harness, tenant, res.otpId))!.code_length).toBe(4);
    const ok = await tenant.otp.verifyOtp({ target: { case: "otpId", value: res.otpId }, code });
    expect(ok.outcome).toBe(OtpOutcome.VERIFIED);
  });

  it("when the same request_id comes again within the TTL, then the first OTP is returned and nothing more is sent; after the TTL a new one is sent", async () => {
    const t = otpTenant(harness, "otp-idem");
    const a = await createOtpAccount(harness, t);
    const phone = newRecipient();
    const first = await send(t, a, phone, { code: newCode(), requestId: "req-1", ttlSeconds: 120 });
    const again = await send(t, a, phone, { code: newCode(), requestId: "req-1", ttlSeconds: 120 });
    expect(again.otpId).toBe(first.otpId);
    expect(again.messageId).toBe(first.messageId);
    const counted = await harness.sql.unsafe<{ count: number }[]>(`select count(*)::int as count from "${t.schema}".messages`);
    expect(counted[0]?.count).toBe(1);

    const elsewhere = await refusal(send(t, a, newRecipient(), { requestId: "req-1" }));
    expect(elsewhere.code).toBe(Code.FailedPrecondition);

    harness.clock.advance(121_000);
    const later = await send(t, a, phone, { code: newCode(), requestId: "req-1" });
    expect(later.otpId).not.toBe(first.otpId);
  });

  it("when a code was sent within the cooldown, then another is refused with RESOURCE_EXHAUSTED and when to retry; after it, a new code replaces the old one", async () => {
    const t = otpTenant(harness, "otp-cool");
    const a = await createOtpAccount(harness, t);
    const phone = newRecipient();
    const code = newCode();
    const first = await send(t, a, phone, { code });
    const error = await refusal(send(t, a, phone, { code: newCode() }));
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.findDetails(ErrorInfoSchema)[0]?.reason).toBe("OTP_RESEND_COOLDOWN");
    const retry = error.findDetails(RetryInfoSchema)[0]?.retryDelay;
    expect(Number(retry?.seconds)).toBeGreaterThan(0);
    expect(Number(retry?.seconds)).toBeLessThanOrEqual(60);

    harness.clock.advance(61_000);
    const second = await send(t, a, phone, { code: newCode() });
    expect(second.otpId).not.toBe(first.otpId);
    // The new code replaces the old one: the old one no longer verifies.
    const old = await t.otp.verifyOtp({ target: { case: "otpId", value: first.otpId }, code });
    expect(old.outcome).toBe(OtpOutcome.EXPIRED);
  });

  it("when a phone had its hourly share of codes, then the next is refused until the hour has passed", async () => {
    const t = otpTenant(harness, "otp-phone");
    const a = await createOtpAccount(harness, t);
    const phone = newRecipient();
    for (let i = 0; i < 3; i++) {
      await send(t, a, phone, { code: newCode() });
      harness.clock.advance(61_000);
    }
    const error = await refusal(send(t, a, phone, { code: newCode() }));
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.findDetails(ErrorInfoSchema)[0]?.reason).toBe("OTP_PHONE_RATE_LIMIT");
    // Another phone is not affected.
    await send(t, a, newRecipient(), { code: newCode() });
    harness.clock.advance(60 * 60_000);
    await send(t, a, phone, { code: newCode() });
  });

  it("when a tenant sent its per-minute share of codes, then the next is refused", async () => {
    const t = otpTenant(harness, "otp-tenant");
    const a = await createOtpAccount(harness, t);
    for (let i = 0; i < 8; i++) await send(t, a, newRecipient(), { code: newCode() });
    const error = await refusal(send(t, a, newRecipient(), { code: newCode() }));
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.findDetails(ErrorInfoSchema)[0]?.reason).toBe("OTP_TENANT_RATE_LIMIT");
    // Other tenants have their own share.
    await send(tenant, account, newRecipient(), { code: newCode() });
  });

  it("when two codes are requested for one phone at once, then one is sent and the other refused", async () => {
    const t = otpTenant(harness, "otp-race");
    const a = await createOtpAccount(harness, t);
    const phone = newRecipient();
    const results = await Promise.allSettled([send(t, a, phone, { code: newCode() }), send(t, a, phone, { code: newCode() })]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.find((r) => r.status === "rejected");
    expect(ConnectError.from(rejected!.reason).code).toBe(Code.ResourceExhausted);
  });

  it("when the request names no template, then the tenant's default is used, in the one language it is approved in", async () => {
    const t = otpTenant(harness, "otp-tpl");
    const a = await createOtpAccount(harness, t);
    const none = await refusal(send(t, a, newRecipient(), { code: newCode(), templateName: "" }));
    expect(none.code).toBe(Code.FailedPrecondition);
    expect(none.findDetails(ErrorInfoSchema)[0]?.reason).toBe("OTP_TEMPLATE_NOT_SET");

    await approveAuthTemplate(harness, t, a, "codigo_acceso", "pt_BR");
    await harness.sql.unsafe(`insert into "${t.schema}".tenant_settings (id, otp_template_name) values (1, 'codigo_acceso')`);
    const res = await send(t, a, newRecipient(), { code: newCode(), templateName: "" });
    const message = await messageContent(harness, t, res.messageId);
    expect(message.content).toMatchObject({ template: { name: "codigo_acceso", language: { code: "pt_BR" } } });
    expect((await otpRow(harness, t, res.otpId))!).toMatchObject({ template_name: "codigo_acceso", template_language: "pt_BR" });
  });

  it("when the account is another tenant's or unknown, then NOT_FOUND", async () => {
    const other = otpTenant(harness, "otp-other");
    await createOtpAccount(harness, other);
    expect((await refusal(send(other, account, newRecipient(), { code: newCode() }))).code).toBe(Code.NotFound);
    const fresh = otpTenant(harness, "otp-none");
    expect((await refusal(send(fresh, account, newRecipient(), { code: newCode() }))).code).toBe(Code.NotFound);
  });

  it("when the template is not an approved AUTHENTICATION template of the account, then FAILED_PRECONDITION and nothing is queued", async () => {
    // A tenant of its own: the shared one's per-minute share is spent by the other tests.
    const own = otpTenant(harness, "otp-unapproved");
    const ownAccount = await createOtpAccount(harness, own);
    const phone = newRecipient();
    const error = await refusal(send(own, ownAccount, phone, { code: newCode(), templateName: "never_created" }));
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.rawMessage).toMatch(/never_created .*not an approved AUTHENTICATION template/);
    // The refusal left nothing behind: the phone's cooldown is not running, a code with the real template goes out.
    expect((await send(own, ownAccount, phone, { code: newCode() })).otpId).not.toBe("");
  });

  it("when the account is a sandbox number (no WABA), then a template created for it through the API sends codes", async () => {
    const own = otpTenant(harness, "otp-sandbox");
    const { account: sandbox } = await own.accounts.createAccount({ account: { provider: Provider.SANDBOX, displayName: "Sandbox", phoneNumberId: `sandbox-${randomUUID()}` } });
    const templates = clientFor(TemplateService, harness.svc.service.url, own.id);
    await templates.createTemplate({
      template: {
        accountId: sandbox!.id,
        name: "sandbox_code",
        language: "en_US",
        category: TemplateCategory.AUTHENTICATION,
        components: { body: { addSecurityRecommendation: true }, buttons: [{ kind: { case: "otp", value: { otpType: OtpButton_OtpType.COPY_CODE, text: "Copy code" } } }] },
      },
    });
    // The sandbox approves it the way Meta does: a status webhook through the inbox.
    await eventually("the sandbox to approve the template", async () => {
      const { templates: listed } = await templates.listTemplates({ accountId: sandbox!.id });
      return listed[0]?.status === TemplateStatus.APPROVED ? true : undefined;
    });
    const code = newCode();
    const sent = await send(own, sandbox!, newRecipient(), { code, templateName: "sandbox_code" });
    expect((await own.otp.verifyOtp({ target: { case: "otpId", value: sent.otpId }, code })).outcome).toBe(OtpOutcome.VERIFIED);
  });

  it("when the request is malformed, then INVALID_ARGUMENT with the fields", async () => {
    const bad = await refusal(tenant.otp.sendOtp({ accountId: account.id, phone: "12", code: "9187x65", ttl: { seconds: 5n } }));
    expect(bad.code).toBe(Code.InvalidArgument);
    // Not even a malformed code is echoed back or logged.
    expect(bad.rawMessage).not.toContain("9187x65");
    expect(harness.svc.logText()).not.toContain("9187x65");
    expect(bad.rawMessage).toMatch(/phone/);
    expect(bad.rawMessage).toMatch(/code/);
    expect(bad.rawMessage).toMatch(/ttl/);
  });
});

describe("VerifyOtp", () => {
  it("when the right code is given, then it verifies once, publishes one otp.verified with the caller's metadata, and a second verify fails", async () => {
    const phone = newRecipient();
    const code = newCode();
    const sent = await send(tenant, account, phone, { code, metadata: { order: "A-17" } });
    const ok = await tenant.otp.verifyOtp({ target: { case: "otpId", value: sent.otpId }, code });
    expect(ok).toMatchObject({ outcome: OtpOutcome.VERIFIED, attemptsRemaining: 0, otpId: sent.otpId });
    const again = await tenant.otp.verifyOtp({ target: { case: "otpId", value: sent.otpId }, code });
    expect(again.outcome).toBe(OtpOutcome.ALREADY_USED);

    const row = (await otpRow(harness, tenant, sent.otpId))!;
    expect(row).toMatchObject({ state: "verified", attempts: 1, verified_via: "api" });
    const events = (await otpEvents(harness, tenant)).filter((e) => e.otpId === sent.otpId);
    expect(events).toHaveLength(1);
    const conversation = await harness.sql.unsafe<{ conversation_id: string }[]>(`select conversation_id from "${tenant.schema}".messages where id = $1`, [sent.messageId]);
    expect(events[0]).toMatchObject({
      tenantId: tenant.id,
      accountId: account.id,
      otpId: sent.otpId,
      phone,
      method: OtpVerificationMethod.API,
      messageId: "",
      conversationId: conversation[0]!.conversation_id,
      contactId: row.contact_id,
      metadata: { order: "A-17" },
    });
  });

  it("when wrong codes are given, then the attempts count down to lock-out and the right code no longer verifies", async () => {
    const code = newCode();
    const sent = await send(tenant, account, newRecipient(), { code });
    const wrong = code === "12345678" ? "87654321" : "12345678";
    const remaining: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await tenant.otp.verifyOtp({ target: { case: "otpId", value: sent.otpId }, code: wrong });
      expect(res.outcome).toBe(OtpOutcome.WRONG_CODE);
      remaining.push(res.attemptsRemaining);
    }
    expect(remaining).toEqual([4, 3, 2, 1]);
    const last = await tenant.otp.verifyOtp({ target: { case: "otpId", value: sent.otpId }, code: wrong });
    expect(last).toMatchObject({ outcome: OtpOutcome.TOO_MANY_ATTEMPTS, attemptsRemaining: 0 });
    const right = await tenant.otp.verifyOtp({ target: { case: "otpId", value: sent.otpId }, code });
    expect(right.outcome).toBe(OtpOutcome.TOO_MANY_ATTEMPTS);
    expect((await otpRow(harness, tenant, sent.otpId))!).toMatchObject({ state: "locked", attempts: 5 });
    expect((await otpEvents(harness, tenant)).filter((e) => e.otpId === sent.otpId)).toHaveLength(0);
  });

  it("when the TTL has passed (injected clock), then the right code answers EXPIRED", async () => {
    const code = newCode();
    const sent = await send(tenant, account, newRecipient(), { code, ttlSeconds: 30 });
    harness.clock.advance(31_000);
    const res = await tenant.otp.verifyOtp({ target: { case: "otpId", value: sent.otpId }, code });
    expect(res).toMatchObject({ outcome: OtpOutcome.EXPIRED, attemptsRemaining: 0, otpId: sent.otpId });
    expect((await otpRow(harness, tenant, sent.otpId))!.state).toBe("expired");
  });

  it("when verifying by phone, then the phone's latest code is checked (optionally from one account)", async () => {
    const phone = newRecipient();
    const code = newCode();
    const sent = await send(tenant, account, phone, { code });
    const elsewhere = await tenant.otp.verifyOtp({ target: { case: "phone", value: phone }, code, accountId: "0190a000-0000-7000-8000-000000000000" });
    expect(elsewhere).toMatchObject({ outcome: OtpOutcome.NOT_FOUND, otpId: "" });
    const res = await tenant.otp.verifyOtp({ target: { case: "phone", value: phone.slice(1) }, code, accountId: account.id });
    expect(res).toMatchObject({ outcome: OtpOutcome.VERIFIED, otpId: sent.otpId });
    const unknown = await tenant.otp.verifyOtp({ target: { case: "phone", value: newRecipient() }, code });
    expect(unknown.outcome).toBe(OtpOutcome.NOT_FOUND);
  });

  it("when another tenant names the OTP, then NOT_FOUND and nothing is counted", async () => {
    const code = newCode();
    const sent = await send(tenant, account, newRecipient(), { code });
    const other = otpTenant(harness, "otp-intruder");
    await createOtpAccount(harness, other);
    const res = await other.otp.verifyOtp({ target: { case: "otpId", value: sent.otpId }, code });
    expect(res).toMatchObject({ outcome: OtpOutcome.NOT_FOUND, otpId: "" });
    const noSchema = otpTenant(harness, "otp-empty");
    expect((await noSchema.otp.verifyOtp({ target: { case: "otpId", value: sent.otpId }, code })).outcome).toBe(OtpOutcome.NOT_FOUND);
    expect((await otpRow(harness, tenant, sent.otpId))!.attempts).toBe(0);
  });

  it("when the right code is verified twice at once, then exactly one call verifies and one event is published", async () => {
    const code = newCode();
    const sent = await send(tenant, account, newRecipient(), { code });
    const results = await Promise.all(Array.from({ length: 4 }, () => tenant.otp.verifyOtp({ target: { case: "otpId", value: sent.otpId }, code })));
    expect(results.filter((r) => r.outcome === OtpOutcome.VERIFIED)).toHaveLength(1);
    expect(results.filter((r) => r.outcome === OtpOutcome.ALREADY_USED)).toHaveLength(3);
    expect((await otpEvents(harness, tenant)).filter((e) => e.otpId === sent.otpId)).toHaveLength(1);
  });

  it("when wrong codes arrive at once, then every attempt is counted", async () => {
    const code = newCode();
    const sent = await send(tenant, account, newRecipient(), { code });
    const wrong = code === "12345678" ? "87654321" : "12345678";
    const results = await Promise.all(Array.from({ length: 8 }, () => tenant.otp.verifyOtp({ target: { case: "otpId", value: sent.otpId }, code: wrong })));
    expect(results.filter((r) => r.outcome === OtpOutcome.WRONG_CODE).map((r) => r.attemptsRemaining).sort()).toEqual([1, 2, 3, 4]);
    expect(results.filter((r) => r.outcome === OtpOutcome.TOO_MANY_ATTEMPTS)).toHaveLength(4);
    expect((await otpRow(harness, tenant, sent.otpId))!).toMatchObject({ state: "locked", attempts: 5 });
  });
});

describe("the code in clear", () => {
  it("when every test has run, then no code appears in the logs, the events or any stored row", async () => {
    expect(codesUsed.length).toBeGreaterThan(10);
    const logs = harness.svc.logText();
    expect(logs).toContain("OtpService/SendOtp");
    const stored = await everythingStored(harness);
    expect(stored).toContain(tenant.id);
    for (const code of codesUsed) {
      expect(logs).not.toContain(code);
      expect(stored).not.toContain(code);
    }
  });
});
