import type { Config } from "../../config.js";
import type { Logger } from "../../observability/logger.js";
import { InboxFullError, InboxWriteTimeoutError, type InboxRow, type TwilioWebhookAccount, type WebhookInbox, type WebhookSecrets } from "../../ports/webhook-inbox.js";
import { checkTwilioSignature, TWILIO_SIGNATURE_HEADER } from "../providers/twilio/twilio-signature.js";
import { MalformedWebhookError, parseTwilioWebhook, readForm, withoutChannel } from "../providers/twilio/webhook-form.js";
import { sendJson, type AnyRequest, type AnyResponse } from "./json.js";
import { storedHeaders } from "./stored-headers.js";
import { requestedUrl } from "./public-url.js";
import { discardUnreadBody, readBodyWithLimit } from "./read-body.js";
import type { WebhookCounters, WebhookOutcome } from "./webhook-counters.js";

/**
 * The Twilio webhook edge (SPEC §4): `POST /webhook/twilio` and
 * `POST /webhook/twilio/{account_id}` take Twilio's form-encoded inbound
 * messages and status callbacks (reference §9.1–9.3).
 *
 * 1. The account: by id on the per-account route; on `/webhook/twilio` by
 *    the business number (`To` of a message, `From` of a status, the
 *    account's phone number id). Either way the form's `AccountSid` must be
 *    the account's. No account → nothing can check the signature → 403 (404
 *    for an unknown id in the path), nothing stored.
 * 2. `X-Twilio-Signature` over the URL Twilio called (public-url.ts) and
 *    every POST parameter, under the account's auth token, constant-time →
 *    403 and nothing stored when it is missing or wrong.
 * 3. The raw body is committed to `control.webhook_inbox` (provider
 *    `twilio`, the path with its query — the status callback URL names our
 *    message) and only then answered 200 with empty TwiML `<Response/>`
 *    (`text/xml`); when the inbox cannot take it, 503 so Twilio retries. A
 *    signed form that is not a messaging webhook is stored as malformed and
 *    answered 400. The inbox worker parses and applies it later, beside
 *    Meta's deliveries.
 */

export const MAX_TWILIO_BODY_BYTES = 256 * 1024;
/** Longest a request waits for its inbox commit before 503 (Twilio's own webhook timeout is 15 s). */
export const TWILIO_INBOX_WRITE_TIMEOUT_MS = 5_000;
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
const STORED_HEADERS = ["content-type", "user-agent", "x-forwarded-for", "x-request-id", "traceparent", "i-twilio-idempotency-token"] as const;

export interface TwilioWebhookDeps {
  config: Pick<Config, "publicUrl" | "trustProxyHeaders">;
  logger: Logger;
  /** Finds the Twilio account of a request, with its (decrypted) SID and auth token. */
  webhookSecrets: WebhookSecrets;
  /** Commits each request before it is answered. */
  inboxWriter: WebhookInbox;
  /** Wakes the inbox worker after a commit. */
  inboxWakeup: { notify(): void };
  webhookCounters: WebhookCounters;
  newId: () => string;
}

/** Serves the Twilio webhook routes; resolves false when the path is not one of them. */
export type TwilioWebhookHandler = (req: AnyRequest, res: AnyResponse) => Promise<boolean>;

type Route = { kind: "global" } | { kind: "account"; accountId: string };

export function createTwilioWebhookHandler(deps: TwilioWebhookDeps): TwilioWebhookHandler {
  const { logger, webhookCounters: counters } = deps;
  const urlOptions = { publicUrl: deps.config.publicUrl, trustProxyHeaders: deps.config.trustProxyHeaders };

  function refuse(req: AnyRequest, res: AnyResponse, path: string, status: number, outcome: WebhookOutcome, message: string, fields: Record<string, unknown> = {}) {
    counters.count(outcome);
    if (!res.headersSent && !res.destroyed) sendJson(res, status, { error: message });
    discardUnreadBody(req);
    if (status !== 503) logger.warn({ path, status, reason: outcome, provider: "twilio", ...fields }, "webhook request refused");
  }

  function twiml(res: AnyResponse, status: number) {
    res.writeHead(status, { "content-type": "text/xml; charset=utf-8", "content-length": Buffer.byteLength(EMPTY_TWIML), "cache-control": "no-store" });
    res.end(EMPTY_TWIML);
  }

  async function receive(req: AnyRequest, res: AnyResponse, path: string, route: Route): Promise<void> {
    const read = await readBodyWithLimit(req, MAX_TWILIO_BODY_BYTES);
    if (read.kind === "too_large") return refuse(req, res, path, 413, "too_large", `payload larger than ${MAX_TWILIO_BODY_BYTES} bytes`);
    if (read.kind === "aborted") {
      counters.count("aborted");
      return;
    }
    const body = read.body;
    const form = readForm(body);
    const field = (name: string) => form.find(([n]) => n === name)?.[1];
    const accountSid = field("AccountSid");

    let account: TwilioWebhookAccount | null;
    if (route.kind === "account") {
      account = await deps.webhookSecrets.twilioAccount({ accountId: route.accountId });
      if (!account) return refuse(req, res, path, 404, "unknown_account", "not found");
    } else {
      // The business number: `To` of an inbound message, `From` of a status callback.
      const number = withoutChannel(field("MessageStatus") === undefined ? field("To") : field("From"));
      account = /^\+[1-9]\d{6,14}$/.test(number) ? await deps.webhookSecrets.twilioAccount({ senderNumber: number }) : null;
      if (!account) return refuse(req, res, path, 403, "unknown_account", "invalid signature", { number });
    }
    if (!account.authToken || !account.accountSid || accountSid !== account.accountSid) {
      // One answer for every failure: a forger learns nothing about which part was wrong.
      return refuse(req, res, path, 403, "signature_mismatch", "invalid signature", { accountId: account.accountId, accountSidMatches: accountSid === account.accountSid });
    }

    const url = requestedUrl(req, urlOptions);
    const signature = checkTwilioSignature(account.authToken, url, form, req.headers[TWILIO_SIGNATURE_HEADER]);
    if (signature !== "valid") {
      return refuse(req, res, path, 403, `signature_${signature}`, "invalid signature", { accountId: account.accountId, url });
    }

    let malformed: string | undefined;
    try {
      parseTwilioWebhook(form, { receivedAt: new Date() });
    } catch (error) {
      if (!(error instanceof MalformedWebhookError)) throw error;
      malformed = error.message;
    }
    const row: InboxRow = {
      id: deps.newId(),
      provider: "twilio",
      path: req.url ?? path,
      accountHint: account.accountId,
      headers: storedHeaders(req, STORED_HEADERS),
      body,
      signatureValid: true,
      status: malformed === undefined ? "pending" : "malformed",
    };
    try {
      await deps.inboxWriter.write(row, { timeoutMs: TWILIO_INBOX_WRITE_TIMEOUT_MS });
    } catch (error) {
      counters.count("unavailable");
      const fields = { path, status: 503, inboxId: row.id, provider: "twilio" };
      if (error instanceof InboxFullError) logger.warn(fields, "webhook inbox queue full: answered 503");
      else if (error instanceof InboxWriteTimeoutError) logger.warn({ ...fields, maybeStored: error.maybeStored }, "webhook inbox write timed out: answered 503");
      else logger.error({ ...fields, cause: error instanceof Error ? error.message : String(error) }, "webhook inbox write failed: answered 503");
      sendJson(res, 503, { error: "temporarily unavailable" });
      return;
    }
    if (malformed !== undefined) return refuse(req, res, path, 400, "malformed", malformed, { inboxId: row.id });
    counters.count("accepted");
    twiml(res, 200);
    deps.inboxWakeup.notify();
    logger.debug({ path, provider: "twilio", inboxId: row.id, accountId: account.accountId }, "webhook delivery stored");
  }

  return async (req, res) => {
    const url = req.url ?? "";
    const queryAt = url.indexOf("?");
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const route = routeOf(path);
    if (!route) return false;
    try {
      if (req.method === "POST") await receive(req, res, path, route);
      else {
        if (!res.headersSent) res.setHeader("allow", "POST");
        refuse(req, res, path, 405, "method_not_allowed", "method not allowed");
      }
    } catch (error) {
      // The account lookup (or anything else) could not reach the database: Twilio retries a 503.
      counters.count("unavailable");
      logger.error({ path, provider: "twilio", cause: error instanceof Error ? error.message : String(error) }, "webhook request failed: answered 503");
      if (!res.headersSent && !res.destroyed) sendJson(res, 503, { error: "temporarily unavailable" });
      discardUnreadBody(req);
    }
    return true;
  };
}

function routeOf(path: string): Route | undefined {
  if (path === "/webhook/twilio") return { kind: "global" };
  const match = /^\/webhook\/twilio\/([^/]+)$/.exec(path);
  // Not decoded: account ids are UUIDs, and anything else is simply not found.
  return match?.[1] ? { kind: "account", accountId: match[1] } : undefined;
}

