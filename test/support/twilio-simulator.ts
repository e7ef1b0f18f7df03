/**
 * A local stand-in for Twilio's Programmable Messaging API for WhatsApp
 * (reference §9): `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` on a
 * real HTTP server (port 0), with Twilio's answers and callbacks:
 *
 * - basic auth per account (`addAccount(sid, token)`): anything else → 401,
 *   code 20003;
 * - the form is checked as Twilio checks it: `To`/`From` as
 *   `whatsapp:+E164` (21211 for a bad `To`, 21603 without `From` or a
 *   Messaging Service), a `Body`, `MediaUrl` or `ContentSid` (21602),
 *   `ContentVariables` a JSON object and only with `ContentSid` (21656);
 * - success is 201 with the Message resource (`sid`, `status: "queued"`…);
 * - errors by recipient (`failRecipient(to, code)`): the synchronous codes
 *   (21211, 21614, 20429, any HTTP status given) answer the request; the
 *   channel codes (63016, 63018, 63024…) are accepted and then reported on
 *   the status callback as `failed` with `ErrorCode`, as Twilio does;
 * - scripted trouble for the next requests (`failNext`): an error answer or
 *   no answer at all (`hang`, accepted first or not);
 * - status callbacks: for an accepted message with a `StatusCallback`, the
 *   statuses in `autoStatuses` (default none) are posted to that URL in
 *   order, form-encoded and signed with `X-Twilio-Signature` under the
 *   account's auth token, with Twilio's parameters (`MessageStatus`,
 *   `SmsStatus`, `EventType` on delivered/read, `ChannelPrefix`…);
 *   `postStatus` posts one by hand.
 *
 * Every request is logged with its form (pairs, in order) and what was
 * answered, for exact assertions on the body Twilio receives.
 */
import { createHmac, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface TwilioRequest {
  at: number;
  accountSid: string;
  /** The form exactly as received, pairs in order. */
  form: [string, string][];
  /** The raw body. */
  body: string;
  authorization: string;
  outcome: "accepted" | "rejected";
  answered: boolean;
  httpStatus?: number;
  code?: number;
  sid?: string;
}

export interface TwilioCallback {
  url: string;
  form: [string, string][];
  /** HTTP status our service answered. */
  status: number;
  responseBody: string;
  contentType: string;
}

export type TwilioTrouble = { kind: "error"; httpStatus: number; code: number; message?: string } | { kind: "hang"; accepted: boolean };

/** Codes Twilio reports on the status callback (channel errors), not on the request. */
const ASYNC_CODES = new Set([63003, 63016, 63018, 63021, 63024, 63032, 63049]);
const SYNC_STATUS: Record<number, number> = { 20003: 401, 20404: 404, 20429: 429, 21211: 400, 21614: 400, 21408: 400, 21610: 400, 21656: 400 };
const MESSAGES: Record<number, string> = {
  20003: "Authenticate",
  20429: "Too Many Requests",
  21211: "The 'To' number is not a valid phone number.",
  21602: "Message body is required.",
  21603: "A 'From' phone number is required.",
  21614: "'To' number is not a valid mobile number",
  21656: "The ContentVariables Parameter is invalid.",
  63016: "Failed to send freeform message because you are outside the allowed window. If you are using WhatsApp, please use a Message Template.",
  63018: "Rate limit exceeded for Channel",
  63024: "Invalid message recipient",
};

/** `X-Twilio-Signature` as Twilio computes it (reference §9.3): URL + sorted names and values. */
export function signTwilio(authToken: string, url: string, form: readonly (readonly [string, string])[]): string {
  const byName = new Map<string, Set<string>>();
  for (const [name, value] of form) byName.set(name, (byName.get(name) ?? new Set()).add(value));
  let s = url;
  for (const name of [...byName.keys()].sort()) for (const value of [...byName.get(name)!].sort()) s += name + value;
  return createHmac("sha1", authToken).update(s, "utf8").digest("base64");
}

/** POSTs a form to `url` as Twilio does: form-encoded, signed (unless `signature` overrides it), Twilio's user agent. */
export async function postSignedForm(
  url: string,
  form: readonly (readonly [string, string])[],
  authToken: string,
  options: { signature?: string | null; headers?: Record<string, string>; signedUrl?: string } = {},
): Promise<{ status: number; body: string; contentType: string }> {
  // `signedUrl`: the public URL Twilio called, when a proxy in front forwards it to `url`.
  const signature = options.signature === undefined ? signTwilio(authToken, options.signedUrl ?? url, form) : options.signature;
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded; charset=UTF-8",
      "user-agent": "TwilioProxy/1.1",
      ...(signature === null ? {} : { "x-twilio-signature": signature }),
      ...options.headers,
    },
    body: new URLSearchParams(form.map(([n, v]): [string, string] => [n, v])).toString(),
  });
  return { status: response.status, body: await response.text(), contentType: response.headers.get("content-type") ?? "" };
}

interface SentMessage {
  sid: string;
  accountSid: string;
  from: string;
  to: string;
  messagingServiceSid?: string;
  statusCallback?: string;
  asyncError?: number;
}

export class TwilioSimulator {
  readonly requests: TwilioRequest[] = [];
  readonly callbacks: TwilioCallback[] = [];
  /** Statuses posted to an accepted message's StatusCallback, in order (e.g. ["sent", "delivered", "read"]). */
  autoStatuses: string[] = [];
  /**
   * A proxy in front of the service: callbacks to URLs starting with `public`
   * are signed for that URL (what Twilio called) and posted to `actual`
   * (where the proxy forwards it), as behind KrakenD or an ingress.
   */
  proxy: { public: string; actual: string } | undefined;
  url = "";
  readonly #server: http.Server;
  readonly #accounts = new Map<string, string>();
  readonly #recipientErrors = new Map<string, number>();
  readonly #trouble: { trouble: TwilioTrouble; accountSid: string | undefined }[] = [];
  readonly #messages = new Map<string, SentMessage>();
  readonly #hung = new Set<http.ServerResponse>();
  readonly #pending = new Set<Promise<void>>();

  private constructor() {
    this.#server = http.createServer((req, res) => this.#handle(req, res));
    this.#server.keepAliveTimeout = 5_000;
  }

  static async start(): Promise<TwilioSimulator> {
    const sim = new TwilioSimulator();
    await new Promise<void>((resolve) => sim.#server.listen(0, "127.0.0.1", resolve));
    sim.url = `http://127.0.0.1:${(sim.#server.address() as AddressInfo).port}`;
    return sim;
  }

  addAccount(accountSid: string, authToken: string): void {
    this.#accounts.set(accountSid, authToken);
  }

  /** Sends to `to` (E.164 with "+") meet Twilio's `code`. */
  failRecipient(to: string, code: number): void {
    this.#recipientErrors.set(to, code);
  }

  failNext(count: number, trouble: TwilioTrouble, accountSid?: string): void {
    for (let i = 0; i < count; i++) this.#trouble.push({ trouble, accountSid });
  }

  requestsTo(to: string): TwilioRequest[] {
    return this.requests.filter((r) => r.form.some(([n, v]) => n === "To" && v === `whatsapp:${to}`));
  }

  /** Posts one status callback for a message this simulator accepted, as Twilio would. */
  async postStatus(sid: string, status: string, errorCode?: number): Promise<TwilioCallback> {
    const message = this.#messages.get(sid);
    if (!message?.statusCallback) throw new Error(`no status callback for ${sid}`);
    const token = this.#accounts.get(message.accountSid) ?? "";
    const form: [string, string][] = [
      ["ChannelPrefix", "whatsapp"],
      ["ApiVersion", "2010-04-01"],
      ["MessageStatus", status],
      ["SmsSid", sid],
      ["SmsStatus", status],
      ["ChannelInstallSid", "XE0000000000000000000000000000000a"],
      ["To", message.to],
      ["From", message.from],
      ["MessageSid", sid],
      ["StructuredMessage", "false"],
      ["AccountSid", message.accountSid],
      ["ChannelToAddress", message.to.replace(/^whatsapp:/, "")],
    ];
    if (message.messagingServiceSid) form.push(["MessagingServiceSid", message.messagingServiceSid]);
    if (status === "delivered" || status === "read") form.push(["EventType", status.toUpperCase()]);
    if (errorCode !== undefined) form.push(["ErrorCode", String(errorCode)], ["ErrorMessage", MESSAGES[errorCode] ?? `Error ${errorCode}`]);
    const target = this.proxy && message.statusCallback.startsWith(this.proxy.public) ? this.proxy.actual + message.statusCallback.slice(this.proxy.public.length) : message.statusCallback;
    const answer = await postSignedForm(target, form, token, { signedUrl: message.statusCallback });
    const callback: TwilioCallback = { url: message.statusCallback, form, status: answer.status, responseBody: answer.body, contentType: answer.contentType };
    this.callbacks.push(callback);
    return callback;
  }

  /** Waits for the automatic callbacks started so far. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  async close(): Promise<void> {
    await this.settled().catch(() => undefined);
    for (const res of this.#hung) res.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(req.url ?? "");
      if (req.method !== "POST" || !match) return answer(res, 404, errorJson(20404, "The requested resource was not found", 404));
      const accountSid = decodeURIComponent(match[1]!);
      const body = Buffer.concat(chunks).toString("utf8");
      const form = [...new URLSearchParams(body)];
      const entry: TwilioRequest = {
        at: performance.timeOrigin + performance.now(),
        accountSid,
        form,
        body,
        authorization: req.headers.authorization ?? "",
        outcome: "rejected",
        answered: true,
      };
      this.requests.push(entry);
      const decision = this.#decide(accountSid, entry);
      if (decision.kind === "hang") {
        entry.answered = false;
        if (decision.accepted) this.#accept(accountSid, entry);
        this.#hung.add(res);
        res.on("close", () => this.#hung.delete(res));
        return;
      }
      if (decision.kind === "reject") {
        entry.httpStatus = decision.httpStatus;
        entry.code = decision.code;
        return answer(res, decision.httpStatus, errorJson(decision.code, decision.message, decision.httpStatus));
      }
      entry.httpStatus = 201;
      answer(res, 201, this.#accept(accountSid, entry));
    });
  }

  #decide(accountSid: string, entry: TwilioRequest): { kind: "accept" } | { kind: "reject"; httpStatus: number; code: number; message: string } | TwilioTrouble & { kind: "hang" } {
    const index = this.#trouble.findIndex((t) => t.accountSid === undefined || t.accountSid === accountSid);
    const trouble = index < 0 ? undefined : this.#trouble.splice(index, 1)[0]!.trouble;
    if (trouble?.kind === "hang") return trouble;
    if (trouble?.kind === "error") return reject(trouble.code, trouble.httpStatus, trouble.message);
    const token = this.#accounts.get(accountSid);
    const expected = token === undefined ? undefined : `Basic ${Buffer.from(`${accountSid}:${token}`).toString("base64")}`;
    if (expected === undefined || entry.authorization !== expected) return reject(20003, 401);
    const get = (name: string) => entry.form.find(([n]) => n === name)?.[1];
    const to = get("To") ?? "";
    if (!/^whatsapp:\+[1-9]\d{6,14}$/.test(to)) return reject(21211, 400, `The 'To' number ${to} is not a valid phone number.`);
    if (!get("From") && !get("MessagingServiceSid")) return reject(21603, 400);
    if (get("From") !== undefined && !/^whatsapp:\+[1-9]\d{6,14}$/.test(get("From")!)) return reject(21603, 400, "The 'From' number is not a WhatsApp sender.");
    if (!get("Body") && !get("MediaUrl") && !get("ContentSid")) return reject(21602, 400);
    const variables = get("ContentVariables");
    if (variables !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(variables);
      } catch {
        parsed = undefined;
      }
      if (!get("ContentSid") || parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return reject(21656, 400);
    }
    const code = this.#recipientErrors.get(to.slice("whatsapp:".length));
    if (code !== undefined && !ASYNC_CODES.has(code)) return reject(code, SYNC_STATUS[code] ?? (code >= 500 && code < 600 ? code : 400));
    return { kind: "accept" };
  }

  #accept(accountSid: string, entry: TwilioRequest): unknown {
    const get = (name: string) => entry.form.find(([n]) => n === name)?.[1];
    const media = entry.form.filter(([n]) => n === "MediaUrl").length;
    const sid = `${media > 0 ? "MM" : "SM"}${randomBytes(16).toString("hex")}`;
    entry.outcome = "accepted";
    entry.sid = sid;
    const to = get("To") ?? "";
    const message: SentMessage = { sid, accountSid, from: get("From") ?? "", to, messagingServiceSid: get("MessagingServiceSid"), statusCallback: get("StatusCallback") };
    const asyncError = this.#recipientErrors.get(to.slice("whatsapp:".length));
    if (asyncError !== undefined && ASYNC_CODES.has(asyncError)) message.asyncError = asyncError;
    this.#messages.set(sid, message);
    this.#scheduleCallbacks(message);
    const now = new Date().toUTCString().replace("GMT", "+0000");
    return {
      account_sid: accountSid,
      api_version: "2010-04-01",
      body: get("Body") ?? "",
      date_created: now,
      date_sent: null,
      date_updated: now,
      direction: "outbound-api",
      error_code: null,
      error_message: null,
      from: message.from,
      messaging_service_sid: message.messagingServiceSid ?? null,
      num_media: String(media),
      num_segments: "1",
      price: null,
      price_unit: null,
      sid,
      status: "queued",
      subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}/Media.json` },
      to,
      uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
    };
  }

  #scheduleCallbacks(message: SentMessage): void {
    if (!message.statusCallback) return;
    const statuses = message.asyncError !== undefined ? ["failed"] : [...this.autoStatuses];
    if (statuses.length === 0) return;
    const run = (async () => {
      // After the 201 has left, as Twilio's callbacks do.
      await new Promise((resolve) => setImmediate(resolve));
      for (const status of statuses) await this.postStatus(message.sid, status, status === "failed" ? message.asyncError : undefined);
    })();
    const tracked = run.catch(() => undefined).finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }
}

function reject(code: number, httpStatus: number, message?: string): { kind: "reject"; httpStatus: number; code: number; message: string } {
  return { kind: "reject", httpStatus, code, message: message ?? MESSAGES[code] ?? `Error ${code}` };
}

/** Twilio's legacy REST error shape (reference §9.4). */
function errorJson(code: number, message: string, status: number): unknown {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

function answer(res: http.ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
