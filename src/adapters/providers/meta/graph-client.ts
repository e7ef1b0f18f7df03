/**
 * A small JSON client for Meta's Graph API over keep-alive connections
 * (node:http / node:https Agents, no extra dependency), with the two things
 * a sender must know about every call:
 *
 * - what Meta answered: the success JSON, or its error object (reference
 *   §6.1: `{error: {message: "(#code) title", code, error_data: {details},
 *   fbtrace_id}}`) turned into a ProviderError keyed on `code`;
 * - when there was no answer, whether the request can have reached Meta.
 *   A failure before the connection was up (refused, DNS, connect timeout)
 *   means it did not: safe to send again. A timeout or reset after the
 *   request was written means it may have been accepted: `maybeSent`.
 *
 * Node's documented keep-alive race (the server closes an idle connection
 * just as a request is written on it: ECONNRESET on a reused socket with no
 * answer) is retried once at once on a fresh connection, as the Node
 * documentation for `request.reusedSocket` recommends. The transport is
 * provider-http.ts, shared with the Twilio client.
 */

import type { ProviderError } from "../../../ports/whatsapp-provider.js";
import type { ServiceMetrics } from "../../../observability/metrics.js";
import { inSpan, SpanKind, SpanStatusCode } from "../../../observability/spans.js";
import { ProviderHttp, type RawPostResult } from "../provider-http.js";
import { number, record, text } from "./json-reader.js";

export interface GraphClientOptions {
  /** e.g. `https://graph.facebook.com` (WHATSAPP_GRAPH_URL). */
  baseUrl: string;
  /** e.g. `v23.0` (WHATSAPP_API_VERSION). */
  version: string;
  /** Whole call, from the request to the last byte of the answer. Default 10 s. */
  timeoutMs?: number;
  /** Until the connection is up; past it the request was never sent. Default 3 s. */
  connectTimeoutMs?: number;
  /** Connections kept per origin. Default 256. */
  maxSockets?: number;
  /** Graph API latency and errors are counted here when given. */
  metrics?: ServiceMetrics | undefined;
}

export type GraphResult =
  | { kind: "ok"; httpStatus: number; body: unknown }
  | { kind: "error"; error: ProviderError }
  | { kind: "no_answer"; error: ProviderError; maybeSent: boolean };

export class GraphClient {
  readonly #http: ProviderHttp;
  readonly #version: string;
  readonly #metrics: ServiceMetrics | undefined;

  constructor(options: GraphClientOptions) {
    this.#http = new ProviderHttp({ baseUrl: options.baseUrl, timeoutMs: options.timeoutMs, connectTimeoutMs: options.connectTimeoutMs, maxSockets: options.maxSockets ?? 256 });
    this.#version = options.version;
    this.#metrics = options.metrics;
  }

  /** POST `/{version}/{path}` with a JSON body and the bearer token. */
  async post(path: string, body: unknown, accessToken: string, signal?: AbortSignal): Promise<GraphResult> {
    const url = this.#http.url(`/${this.#version}/${path}`);
    const payload = Buffer.from(JSON.stringify(body), "utf8");
    const operation = graphOperation(path);
    const started = performance.now();
    // A CLIENT span per call (the keep-alive retry included), named by the
    // operation, never by the ids in the path.
    const result = await inSpan(
      `POST ${operation}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          "http.request.method": "POST",
          "server.address": url.hostname,
          "url.template": `/{version}/{id}/${operation}`,
          "whatsapp.graph.operation": operation,
        },
      },
      async (span) => {
        const answer = finish(await this.#http.post(url, payload, { authorization: `Bearer ${accessToken}`, "content-type": "application/json" }, signal));
        if (answer.kind === "ok") span.setAttribute("http.response.status_code", answer.httpStatus);
        else {
          if (answer.error.httpStatus) span.setAttribute("http.response.status_code", answer.error.httpStatus);
          span.setAttribute("whatsapp.graph.error_code", answer.error.code);
          span.setStatus({ code: SpanStatusCode.ERROR, message: answer.kind === "no_answer" ? `no answer: ${answer.error.title}` : `(#${answer.error.code}) ${answer.error.title}` });
        }
        return answer;
      },
    );
    const outcome = result.kind;
    this.#metrics?.graphDuration.observe({ operation, outcome }, (performance.now() - started) / 1000);
    if (result.kind !== "ok") this.#metrics?.graphErrors.inc({ operation, code: String(result.error.code) });
    return result;
  }

  /** Closes the idle keep-alive connections. */
  close(): void {
    this.#http.close();
  }
}

/** The path's last segment (`messages`, `message_templates`, …): a bounded label, unlike the ids before it. */
export function graphOperation(path: string): string {
  const last = path.split("?")[0]!.split("/").filter((segment) => segment !== "").pop() ?? "";
  return /^[a-z_]{1,40}$/.test(last) ? last : "other";
}

function finish(raw: RawPostResult): GraphResult {
  if (raw.kind === "answer") return interpretAnswer(raw.httpStatus, raw.body);
  if (raw.kind === "reset_on_reused_socket") return noAnswer("Network error", "connection reset twice on reused connections", true);
  return noAnswer(raw.title, raw.details, raw.maybeSent);
}

function noAnswer(title: string, details: string, maybeSent: boolean): GraphResult {
  return { kind: "no_answer", error: { code: 0, title, details, httpStatus: 0 }, maybeSent };
}

/** An answer: 2xx with its JSON, or Meta's error object (or whatever a gateway sent instead). */
export function interpretAnswer(httpStatus: number, bodyText: string): GraphResult {
  let body: unknown;
  try {
    body = bodyText === "" ? undefined : JSON.parse(bodyText);
  } catch {
    body = undefined;
  }
  if (httpStatus >= 200 && httpStatus < 300) return { kind: "ok", httpStatus, body };
  return { kind: "error", error: graphError(httpStatus, body, bodyText) };
}

/** Meta's `{error: {...}}` → ProviderError; title without the "(#code) " prefix Meta puts in `message`. */
export function graphError(httpStatus: number, body: unknown, bodyText = ""): ProviderError {
  const error = record(record(body)?.error);
  if (!error) {
    return { code: 0, title: `HTTP ${httpStatus}`, details: bodyText.slice(0, 300), httpStatus };
  }
  const code = number(error.code) ?? 0;
  const message = text(error.message) ?? "";
  const title = message.replace(/^\(#\d+\)\s*/, "") || (text(error.error_user_title) ?? "");
  const details = text(record(error.error_data)?.details) ?? text(error.error_user_msg) ?? "";
  return { code, title: title || `Error ${code}`, details, httpStatus };
}
