/**
 * The OTP service's side, on Connect (`createClient` over the generated code
 * in gen/, gRPC protocol through @connectrpc/connect-node):
 *
 *   1. create a SANDBOX account and an AUTHENTICATION template (the sandbox
 *      approves it within a second, as Meta's status webhook would);
 *   2. SendOtp with a deadline and a request_id, retried on Unavailable (and
 *      on a passed deadline: the request_id makes the retry safe) with
 *      exponential backoff and jitter, or after the server's RetryInfo;
 *   3. a second SendOtp to the same phone at once: ResourceExhausted, with
 *      ErrorInfo (why) and RetryInfo (when) read from the status details;
 *   4. VerifyOtp with a wrong code, then the right one, then again.
 *
 * Run against `npm start`:
 *
 *   npm run example:otp
 *
 * Environment: see examples/support.ts; OTP_EXAMPLE_ATTEMPTS (default 10)
 * bounds the retries. The service may be started after this script: the
 * first calls are retried until it answers.
 */
import { randomUUID } from "node:crypto";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type CallOptions, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";

import { ErrorInfoSchema, RetryInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { AccountService, Provider } from "../gen/whatsapp/v1/account_pb.js";
import { OtpOutcome, OtpService } from "../gen/whatsapp/v1/otp_pb.js";
import { TemplateCategory, TemplateService, TemplateStatus, OtpButton_OtpType } from "../gen/whatsapp/v1/template_pb.js";
import { loadExampleConfig, report } from "./support.js";

const config = loadExampleConfig();
const maxAttempts = Number(process.env.OTP_EXAMPLE_ATTEMPTS || 10);

/** The caller's identity on every call: the bearer token, or the tenant where auth is off. */
const identity: Interceptor = (next) => (req) => {
  if (config.token) req.header.set("authorization", `Bearer ${config.token}`);
  else req.header.set("x-tenant-id", config.tenant);
  return next(req);
};
const transport = createGrpcTransport({ baseUrl: config.url.origin, interceptors: [identity] });
const accounts = createClient(AccountService, transport);
const templates = createClient(TemplateService, transport);
const otp = createClient(OtpService, transport);

/** Transient: the service is restarting or unreachable, or the attempt ran out of time. */
const RETRYABLE = new Set([Code.Unavailable, Code.DeadlineExceeded]);

/**
 * Runs `call` until it succeeds, retrying transient failures. Each attempt
 * has its own deadline (`timeoutMs`); the wait between attempts doubles from
 * 200 ms up to 3 s, with full jitter so many callers do not retry in step,
 * unless the server said when (RetryInfo). Only for calls that are safe to
 * repeat: reads, or writes carrying an idempotency key / request_id.
 */
async function withRetries<T>(what: string, call: (options: CallOptions) => Promise<T>, timeoutMs = 3_000): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call({ timeoutMs });
    } catch (e) {
      const error = ConnectError.from(e);
      if (!RETRYABLE.has(error.code) || attempt >= maxAttempts) throw error;
      const told = retryDelayMs(error);
      const delayMs = told ?? Math.random() * Math.min(3_000, 200 * 2 ** (attempt - 1));
      report("retry", { what, attempt, code: Code[error.code], delayMs: Math.round(delayMs) });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** RetryInfo.retry_delay from the error's details, in ms. */
function retryDelayMs(error: ConnectError): number | undefined {
  const [info] = error.findDetails(RetryInfoSchema);
  if (!info?.retryDelay) return undefined;
  return Number(info.retryDelay.seconds) * 1000 + Math.round(info.retryDelay.nanos / 1e6);
}

async function main(): Promise<void> {
  // CreateAccount is retried only while nothing answers (connection refused:
  // the request never arrived); a real caller would look the account up first.
  const { account } = await withRetries("CreateAccount", (options) =>
    accounts.createAccount(
      { account: { provider: Provider.SANDBOX, phoneNumberId: `sandbox-otp-${Date.now().toString(36)}`, displayName: "OTP example" } },
      options,
    ),
  );
  report("account", { accountId: account!.id });

  const { template } = await templates.createTemplate(
    {
      template: {
        accountId: account!.id,
        name: "otp_example",
        language: "en_US",
        category: TemplateCategory.AUTHENTICATION,
        components: {
          body: { addSecurityRecommendation: true },
          footer: { codeExpirationMinutes: 10 },
          buttons: [{ kind: { case: "otp", value: { otpType: OtpButton_OtpType.COPY_CODE, text: "Copy code" } } }],
        },
      },
    },
    { timeoutMs: 3_000 },
  );
  for (let status = template!.status; status !== TemplateStatus.APPROVED; ) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    status = (await templates.getTemplate({ templateId: template!.id }, { timeoutMs: 3_000 })).template!.status;
  }
  report("template", { templateId: template!.id, status: "APPROVED" });

  const phone = "+14155550123";
  const code = String(100000 + Math.floor(Math.random() * 900000));
  // One request_id for every attempt of this send: a retry after a lost
  // answer returns the first code instead of sending a second one.
  const requestId = randomUUID();
  const sent = await withRetries("SendOtp", (options) =>
    otp.sendOtp({ accountId: account!.id, phone, code, templateName: "otp_example", ttl: durationFromMs(5 * 60_000), requestId }, options),
  );
  report("otp-sent", { otpId: sent.otpId, messageId: sent.messageId, maxAttempts: sent.maxAttempts });

  try {
    await otp.sendOtp({ accountId: account!.id, phone, templateName: "otp_example", requestId: randomUUID() }, { timeoutMs: 3_000 });
    report("unexpected", { what: "a second code inside the cooldown was accepted" });
  } catch (e) {
    const error = ConnectError.from(e);
    const [info] = error.findDetails(ErrorInfoSchema);
    report("otp-refused", { code: Code[error.code], message: error.rawMessage, reason: info?.reason, domain: info?.domain, retryDelayMs: retryDelayMs(error) });
  }

  const wrong = await withRetries("VerifyOtp", (options) => otp.verifyOtp({ target: { case: "otpId", value: sent.otpId }, code: code === "000000" ? "111111" : "000000" }, options));
  report("otp-verify", { attempt: "wrong code", outcome: OtpOutcome[wrong.outcome] });
  const right = await withRetries("VerifyOtp", (options) => otp.verifyOtp({ target: { case: "otpId", value: sent.otpId }, code }, options));
  report("otp-verify", { attempt: "right code", outcome: OtpOutcome[right.outcome] });
  const again = await withRetries("VerifyOtp", (options) => otp.verifyOtp({ target: { case: "otpId", value: sent.otpId }, code }, options));
  report("otp-verify", { attempt: "right code again", outcome: OtpOutcome[again.outcome] });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    const e = ConnectError.from(error);
    report("error", { code: Code[e.code], message: e.rawMessage });
    process.exit(1);
  },
);
