import type { Config } from "../../config.js";
import type { Logger } from "../../observability/logger.js";
import { InboxFullError, InboxWriteTimeoutError, type AccountWebhookSecrets, type InboxRow, type WebhookInbox, type WebhookSecrets } from "../../ports/webhook-inbox.js";
import { parseJsonObject } from "./json-guard.js";
import { sendJson, type AnyRequest, type AnyResponse } from "./json.js";
import { storedHeaders } from "./stored-headers.js";
import { checkMetaSignature, constantTimeEquals, META_SIGNATURE_HEADER } from "./meta-signature.js";
import { discardUnreadBody, readBodyWithLimit } from "./read-body.js";
import type { WebhookCounters, WebhookOutcome } from "./webhook-counters.js";
import type { ServiceMetrics } from "../../observability/metrics.js";
import { contextFromHeaders, currentTraceparent, inSpan, SpanKind, SpanStatusCode } from "../../observability/spans.js";

/**
 * The Meta webhook edge (SPEC §4):
 *
 * - `GET /webhook`, `GET /webhook/{account_id}`: Meta's verification
 *   handshake → 200 with `hub.challenge` as plain text, else 403.
 * - `POST /webhook`, `POST /webhook/{account_id}`: the raw body (1 MiB at
 *   most → 413) is checked against `X-Hub-Signature-256` before anything is
 *   parsed (→ 401, nothing stored); a signed body that is not a JSON object is
 *   stored as `malformed` and answered 400; a valid one is committed to
 *   `control.webhook_inbox` and only then answered 200. When the inbox cannot
 *   take it the answer is 503, so Meta retries. Processing happens later, by
 *   the inbox worker (woken through `inboxWakeup`).
 *
 * `/webhook` uses META_APP_SECRET / META_VERIFY_TOKEN; `/webhook/{account_id}`
 * the account's own app secret and verify token (tenants with their own Meta
 * app) and never the global ones. `/webhook/twilio…` is the Twilio edge (twilio-webhook-routes.ts).
 */

export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;
/** Longest we hold Meta's request waiting for a commit before answering 503 (Meta's own timeout is unpublished; 3-20 s is reported). */
export const INBOX_WRITE_TIMEOUT_MS = 5_000;
/** Meta's challenges are short numbers; anything long is not Meta and is not echoed. */
const MAX_CHALLENGE_LENGTH = 1024;
/** Headers kept with a delivery for diagnosis: none of them carries a secret or the signature. */
const STORED_HEADERS = ["content-type", "content-encoding", "user-agent", "x-forwarded-for", "x-request-id", "traceparent"] as const;
/** Phone number ids are digits; anything else in the payload is not used as a hint. */
const PHONE_NUMBER_ID_HINT = /^[0-9A-Za-z._-]{1,64}$/;

export interface MetaWebhookDeps {
  config: Pick<Config, "metaAppSecret" | "metaVerifyToken">;
  logger: Logger;
  /** Per-account app secrets and verify tokens (`/webhook/{account_id}`). */
  webhookSecrets: WebhookSecrets;
  /** Commits each delivery before it is answered. */
  inboxWriter: WebhookInbox;
  /** Wakes the inbox worker after a commit. */
  inboxWakeup: { notify(): void };
  webhookCounters: WebhookCounters;
  /** Webhook requests by result and their latency (`/metrics`). */
  metrics: ServiceMetrics;
  newId: () => string;
}

type Route = { kind: "global" } | { kind: "account"; accountId: string };

/** What a route checks deliveries with, and the hint stored beside them. */
interface RouteSecrets {
  appSecret: string | undefined;
  verifyToken: string | undefined;
  /** The account id for per-account routes; null for `/webhook` (the payload's phone number id is used). */
  accountId: string | null;
}

/** Serves the Meta webhook routes; resolves false when the path is not one of them. */
export type MetaWebhookHandler = (req: AnyRequest, res: AnyResponse) => Promise<boolean>;

export function createMetaWebhookHandler(deps: MetaWebhookDeps): MetaWebhookHandler {
  const { logger, webhookCounters: counters, metrics } = deps;
  /** Each request's outcome, for its span and the latency histogram (set once per request by `count`). */
  const outcomes = new WeakMap<AnyRequest, WebhookOutcome>();
  const count = (req: AnyRequest, outcome: WebhookOutcome) => {
    counters.count(outcome);
    metrics.webhookRequests.inc({ result: outcome });
    outcomes.set(req, outcome);
  };
  const warned = new Set<string>();
  /** Operator-facing configuration problems: once per process, not once per delivery. */
  const warnOnce = (key: string, fields: Record<string, unknown>, message: string) => {
    if (warned.has(key)) return;
    warned.add(key);
    logger.warn(fields, message);
  };

  async function secretsFor(route: Route): Promise<RouteSecrets | null> {
    if (route.kind === "global") {
      return { appSecret: deps.config.metaAppSecret, verifyToken: deps.config.metaVerifyToken, accountId: null };
    }
    const found: AccountWebhookSecrets | null = await deps.webhookSecrets.forAccount(route.accountId);
    return found && { appSecret: found.appSecret, verifyToken: found.verifyToken, accountId: found.accountId };
  }

  /** Answers, counts and logs one outcome; anything of the body still unread is dropped safely. */
  function finish(req: AnyRequest, res: AnyResponse, path: string, status: number, outcome: WebhookOutcome, body: unknown, fields: Record<string, unknown> = {}) {
    count(req, outcome);
    if (!res.headersSent && !res.destroyed) sendJson(res, status, body);
    discardUnreadBody(req);
    if (status >= 400 && status !== 503) logger.warn({ path, status, reason: outcome, ...fields }, "webhook request refused");
  }

  async function verify(req: AnyRequest, res: AnyResponse, path: string, route: Route, query: string): Promise<void> {
    const secrets = await secretsFor(route);
    if (!secrets) return finish(req, res, path, 404, "unknown_account", { error: "not found" });
    if (secrets.verifyToken === undefined) {
      if (route.kind === "global") {
        warnOnce("no-verify-token", {}, "META_VERIFY_TOKEN is not set: every GET /webhook verification is refused");
      } else {
        warnOnce(`no-verify-token:${route.accountId}`, { accountId: route.accountId }, "account has no verify token: its webhook verification is refused");
      }
      return finish(req, res, path, 403, "verification_refused", { error: "forbidden" });
    }
    const params = new URLSearchParams(query);
    const token = params.get("hub.verify_token");
    const challenge = params.get("hub.challenge");
    const accepted =
      params.get("hub.mode") === "subscribe" &&
      token !== null &&
      constantTimeEquals(token, secrets.verifyToken) &&
      challenge !== null &&
      challenge !== "" &&
      challenge.length <= MAX_CHALLENGE_LENGTH;
    if (!accepted) return finish(req, res, path, 403, "verification_refused", { error: "forbidden" });
    count(req, "verification_ok");
    res.writeHead(200, {
      "content-type": "text/plain; charset=utf-8",
      "content-length": Buffer.byteLength(challenge),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    });
    res.end(challenge);
    discardUnreadBody(req);
    logger.info({ path }, "webhook verification accepted");
  }

  async function receive(req: AnyRequest, res: AnyResponse, path: string, route: Route): Promise<void> {
    const started = performance.now();
    const secrets = await secretsFor(route);
    if (!secrets) return finish(req, res, path, 404, "unknown_account", { error: "not found" });
    if (secrets.appSecret === undefined) {
      if (route.kind === "global") {
        warnOnce("no-app-secret", {}, "META_APP_SECRET is not set: every /webhook delivery is refused");
      } else {
        warnOnce(`no-app-secret:${route.accountId}`, { accountId: route.accountId }, "account has no app secret: its /webhook deliveries are refused");
      }
      return finish(req, res, path, 401, "no_app_secret", { error: "invalid signature" });
    }

    const read = await readBodyWithLimit(req, MAX_WEBHOOK_BODY_BYTES);
    if (read.kind === "too_large") {
      return finish(req, res, path, 413, "too_large", { error: `payload larger than ${MAX_WEBHOOK_BODY_BYTES} bytes` });
    }
    if (read.kind === "aborted") {
      count(req, "aborted");
      logger.debug({ path }, "webhook request aborted by the client");
      return;
    }
    const body = read.body;

    const signature = checkMetaSignature(secrets.appSecret, body, req.headers[META_SIGNATURE_HEADER]);
    if (signature !== "valid") {
      // One answer for every kind of failure: a forger learns nothing from it.
      return finish(req, res, path, 401, `signature_${signature}`, { error: "invalid signature" }, { bytes: body.length });
    }

    const parsed = parseJsonObject(body);
    const row: InboxRow = {
      id: deps.newId(),
      provider: "meta",
      path,
      accountHint: secrets.accountId ?? (parsed.ok ? phoneNumberIdOf(parsed.value) : null),
      headers: storedHeaders(req, STORED_HEADERS),
      body,
      signatureValid: true,
      status: parsed.ok ? "pending" : "malformed",
      // This request's span (the webhook edge): the inbox worker continues its trace.
      traceContext: currentTraceparent() ?? null,
    };
    try {
      await deps.inboxWriter.write(row, { timeoutMs: INBOX_WRITE_TIMEOUT_MS });
    } catch (error) {
      count(req, "unavailable");
      logUnavailable(path, row, error);
      sendJson(res, 503, { error: "temporarily unavailable" });
      return;
    }
    const ms = Math.round((performance.now() - started) * 10) / 10;
    if (!parsed.ok) {
      // Stored for inspection; a retry of the same bytes would not parse either.
      return finish(req, res, path, 400, "malformed", { error: parsed.reason }, { inboxId: row.id, detail: parsed.reason });
    }
    count(req, "accepted");
    sendJson(res, 200, { status: "received" });
    deps.inboxWakeup.notify();
    logger.debug({ path, status: 200, bytes: body.length, inboxId: row.id, ms }, "webhook delivery stored");
  }

  function logUnavailable(path: string, row: InboxRow, error: unknown) {
    const fields = { path, status: 503, inboxId: row.id, bytes: row.body.length };
    if (error instanceof InboxFullError) logger.warn(fields, "webhook inbox queue full: answered 503");
    else if (error instanceof InboxWriteTimeoutError) logger.warn({ ...fields, maybeStored: error.maybeStored }, "webhook inbox write timed out: answered 503");
    else logger.error({ ...fields, cause: databaseCause(error) }, "webhook inbox write failed: answered 503");
  }

  return async (req, res) => {
    const url = req.url ?? "";
    const queryAt = url.indexOf("?");
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const route = routeOf(path);
    if (!route) return false;
    const started = performance.now();
    // The http edge's SERVER span: a Meta retry or a proxy's `traceparent` is
    // its parent; the inbox row keeps this span's context for the worker.
    const template = route.kind === "global" ? "/webhook" : "/webhook/{account_id}";
    await inSpan(
      `${req.method ?? "HTTP"} ${template}`,
      {
        kind: SpanKind.SERVER,
        parent: contextFromHeaders(req.headers),
        attributes: { "http.request.method": req.method ?? "", "http.route": template, "url.path": template },
      },
      async (span) => {
        await handle(req, res, path, route, url, queryAt);
        const outcome = outcomes.get(req) ?? "aborted";
        span.setAttribute("whatsapp.webhook.result", outcome);
        if (res.statusCode) span.setAttribute("http.response.status_code", res.statusCode);
        if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
        metrics.webhookDuration.observe({ result: outcome }, (performance.now() - started) / 1000);
      },
    );
    return true;
  };

  async function handle(req: AnyRequest, res: AnyResponse, path: string, route: Route, url: string, queryAt: number): Promise<void> {
    try {
      if (req.method === "POST") await receive(req, res, path, route);
      else if (req.method === "GET") await verify(req, res, path, route, queryAt === -1 ? "" : url.slice(queryAt + 1));
      else {
        if (!res.headersSent) res.setHeader("allow", "GET, POST");
        finish(req, res, path, 405, "method_not_allowed", { error: "method not allowed" });
      }
    } catch (error) {
      // The account lookup (or anything else) could not reach the database.
      count(req, "unavailable");
      logger.error({ path, cause: databaseCause(error) }, "webhook request failed: answered 503");
      if (!res.headersSent && !res.destroyed) sendJson(res, 503, { error: "temporarily unavailable" });
      discardUnreadBody(req);
    }
  }
}

function routeOf(path: string): Route | undefined {
  if (path === "/webhook") return { kind: "global" };
  const match = /^\/webhook\/([^/]+)$/.exec(path);
  if (!match?.[1] || match[1] === "twilio") return undefined;
  return { kind: "account", accountId: match[1] };
}

/** The first `entry[].changes[].value.metadata.phone_number_id`: enough to route an operator's eye, not a promise. */
function phoneNumberIdOf(payload: Record<string, unknown>): string | null {
  const entries = payload.entry;
  if (!Array.isArray(entries)) return null;
  for (const entry of entries) {
    const changes: unknown = (entry as { changes?: unknown } | null)?.changes;
    if (!Array.isArray(changes)) continue;
    for (const change of changes) {
      const id: unknown = (change as { value?: { metadata?: { phone_number_id?: unknown } } } | null)?.value?.metadata?.phone_number_id;
      if (typeof id === "string" && PHONE_NUMBER_ID_HINT.test(id)) return id;
    }
  }
  return null;
}

/**
 * The innermost error's message and code. Never the error itself: drizzle's
 * wrapper quotes the query parameters (the delivery's body and headers), and
 * postgres.js errors carry them as properties.
 */
function databaseCause(error: unknown): { message: string; code?: string } {
  let inner: unknown = error;
  for (let depth = 0; depth < 5 && inner instanceof Error && inner.cause !== undefined; depth++) inner = inner.cause;
  if (!(inner instanceof Error)) return { message: String(inner) };
  const code = (inner as { code?: unknown }).code;
  return typeof code === "string" ? { message: inner.message, code } : { message: inner.message };
}
