/**
 * A small client for Twilio's REST API (ADR 0013: not the `twilio` package):
 * form-encoded POSTs with HTTP basic auth over keep-alive connections
 * (node:http / node:https Agents), answering what a sender must know:
 *
 * - what Twilio answered: the success JSON, or its error (reference §9.4:
 *   the legacy `{code, message, more_info, status}` and the RFC 9457
 *   `{type, title, status, code, detail}` shapes) as a ProviderError keyed
 *   on Twilio's `code`;
 * - when there was no answer, whether the request can have reached Twilio:
 *   refused, DNS or connect timeout → it did not (`maybeSent: false`, safe to
 *   send again); a timeout or reset after the request was written → it may
 *   have been accepted (`maybeSent: true`).
 *
 * Node's keep-alive race (ECONNRESET on a reused socket before any answer)
 * is retried once at once on a fresh connection (provider-http.ts, shared with graph-client.ts).
 */
import type { ProviderError } from "../../../ports/whatsapp-provider.js";
import { number, record, text } from "../meta/json-reader.js";
import { ProviderHttp, type RawPostResult } from "../provider-http.js";
import { TWILIO_ERROR_TITLES } from "./twilio-errors.js";

export interface TwilioClientOptions {
  /** e.g. `https://api.twilio.com` (TWILIO_BASE_URL). */
  baseUrl: string;
  /** Whole call, from the request to the last byte of the answer. Default 10 s. */
  timeoutMs?: number;
  /** Until the connection is up; past it the request was never sent. Default 3 s. */
  connectTimeoutMs?: number;
  /** Connections kept per origin. Default 64. */
  maxSockets?: number;
}

export interface TwilioAuth {
  /** `AC…` (or an API key SID). */
  username: string;
  /** The auth token (or the API key secret). */
  password: string;
}

export type TwilioResult =
  | { kind: "ok"; httpStatus: number; body: unknown }
  | { kind: "error"; error: ProviderError }
  | { kind: "no_answer"; error: ProviderError; maybeSent: boolean };

export class TwilioClient {
  readonly #http: ProviderHttp;

  constructor(options: TwilioClientOptions) {
    this.#http = new ProviderHttp({ baseUrl: options.baseUrl, timeoutMs: options.timeoutMs, connectTimeoutMs: options.connectTimeoutMs, maxSockets: options.maxSockets ?? 64 });
  }

  /** POST `path` (e.g. `/2010-04-01/Accounts/AC…/Messages.json`) with the form fields in order. */
  async postForm(path: string, fields: readonly (readonly [string, string])[], auth: TwilioAuth, signal?: AbortSignal): Promise<TwilioResult> {
    const url = this.#http.url(path);
    const payload = Buffer.from(new URLSearchParams(fields.map(([n, v]): [string, string] => [n, v])).toString(), "utf8");
    const authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`, "utf8").toString("base64")}`;
    return finish(await this.#http.post(url, payload, { authorization, "content-type": "application/x-www-form-urlencoded" }, signal));
  }

  /** Closes the idle keep-alive connections. */
  close(): void {
    this.#http.close();
  }
}

function finish(raw: RawPostResult): TwilioResult {
  if (raw.kind === "answer") return interpretTwilioAnswer(raw.httpStatus, raw.body);
  if (raw.kind === "reset_on_reused_socket") {
    return { kind: "no_answer", error: { code: 0, title: "Network error", details: "connection reset twice on reused connections", httpStatus: 0 }, maybeSent: true };
  }
  return { kind: "no_answer", error: { code: 0, title: raw.title, details: raw.details, httpStatus: 0 }, maybeSent: raw.maybeSent };
}

/** An answer: 2xx with its JSON, or Twilio's error (or whatever a gateway sent instead). */
export function interpretTwilioAnswer(httpStatus: number, bodyText: string): TwilioResult {
  let body: unknown;
  try {
    body = bodyText === "" ? undefined : JSON.parse(bodyText);
  } catch {
    body = undefined;
  }
  if (httpStatus >= 200 && httpStatus < 300) return { kind: "ok", httpStatus, body };
  return { kind: "error", error: twilioError(httpStatus, body, bodyText) };
}

/** Twilio's error JSON → ProviderError: the code, our title for it (or Twilio's), Twilio's message as details. */
export function twilioError(httpStatus: number, body: unknown, bodyText = ""): ProviderError {
  const error = record(body);
  const code = Math.trunc(number(error?.code) ?? 0);
  if (!error || code === 0) return { code: 0, title: `HTTP ${httpStatus}`, details: bodyText.slice(0, 300), httpStatus };
  // Legacy: message; RFC 9457: title + detail.
  const message = text(error.message) ?? text(error.detail) ?? "";
  const title = TWILIO_ERROR_TITLES[code] ?? text(error.title) ?? (message || `Twilio error ${code}`);
  return { code, title, details: message, httpStatus };
}
