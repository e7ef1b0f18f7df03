/**
 * A local stand-in for the Graph API's send endpoint (reference §5–§7):
 * `POST /{version}/{phone_number_id}/messages` on a real HTTP server (port
 * 0), answering with Meta's success and error shapes, and enforcing what
 * Meta enforces:
 *
 * - throughput per number: more than `throughputPerSecond` sends accepted
 *   in any sliding second → 130429 (reference §7.1);
 * - pair rate: more than `pairRate.max` sends to one recipient within
 *   `pairRate.windowMs` → 131056 (§7.2; Meta: 1 per 6 s, bursts of 45);
 * - tokens: a number with a token set refuses any other bearer → 190;
 * - permanent errors by recipient (`failRecipient(to, 131026)`);
 * - scripted trouble for the next N requests (`failNext`): 5xx bursts,
 *   any Meta code, or hanging without an answer (`hang`, accepted or not);
 * - slow answers (`slowMs`), or answers held (`holdAnswers`) until
 *   `releaseAnswers()`: the send is accepted and its wamid known
 *   (`requests`), so a test can deliver its status webhooks first.
 *
 * Every request is logged with its arrival time, number, recipient, our
 * message id (`biz_opaque_callback_data`) and what was answered, for
 * assertions (`acceptedFor(messageId)`, `maxInAnySecond(number)`).
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface SimulatedRequest {
  /** Arrival, epoch ms (high resolution). */
  at: number;
  phoneNumberId: string;
  to: string;
  /** Our message id, echoed from `biz_opaque_callback_data`. */
  messageId: string;
  /** `accepted`: Meta took it and would deliver it (also when no answer came back). */
  outcome: "accepted" | "rejected";
  /** False when the simulator hung instead of answering. */
  answered: boolean;
  code?: number;
  wamid?: string;
  body: Record<string, unknown>;
}

/** A template as the simulated WABA holds it (Meta's list shape, reference §8). */
export interface SimulatedTemplate {
  id: string;
  wabaId: string;
  name: string;
  language: string;
  category: string;
  status: string;
  parameter_format?: string;
  components: unknown[];
  rejected_reason?: string;
}

/** One call of the template management API, as received. */
export interface TemplateCall {
  method: string;
  /** Path and query, e.g. `/v23.0/1234/message_templates?limit=100`. */
  path: string;
  authorization: string;
  body: Record<string, unknown> | undefined;
}

/**
 * Trouble for the next template management call: an error (Meta's standard
 * shape from `code`/`title`, or exactly `body` when given — e.g. a
 * template-creation error with `error_subcode`, `error_user_title`,
 * `error_user_msg`), or no answer at all (`hang`), the call having taken
 * effect first (`applied`) or not.
 */
export type TemplateTrouble = { httpStatus: number; code: number; title?: string; body?: unknown } | { hang: true; applied: boolean };

export type Trouble =
  | { kind: "error"; httpStatus: number; code: number; title?: string }
  /** No answer at all; `accepted` decides whether Meta "took" the message before going silent. */
  | { kind: "hang"; accepted: boolean };

export interface GraphSimulatorOptions {
  throughputPerSecond?: number;
  pairRate?: { max: number; windowMs: number };
}

const TITLES: Record<number, string> = {
  0: "AuthException",
  100: "Invalid parameter",
  190: "Access token has expired",
  130429: "Rate limit hit",
  131000: "Something went wrong",
  131016: "Service unavailable",
  131026: "Message undeliverable",
  131047: "Re-engagement message",
  131056: "(Business Account, Consumer Account) pair rate limit hit",
  132000: "Number of parameters does not match the expected number of params",
};

export class GraphSimulator {
  readonly requests: SimulatedRequest[] = [];
  /** Template management: the templates of every WABA, and every call received. */
  readonly templates: SimulatedTemplate[] = [];
  readonly templateCalls: TemplateCall[] = [];
  /** Templates per page of GET message_templates (Meta pages them). */
  templatePageSize = 25;
  /** Status a created template starts in (Meta may approve some authentication templates at once). */
  createStatus = "PENDING";
  /** Errors the next template management calls answer, in order (see TemplateTrouble). */
  readonly templateTrouble: TemplateTrouble[] = [];
  url = "";
  slowMs = 0;
  /** While true, accepted sends get their answer only at `releaseAnswers()`. */
  holdAnswers = false;
  readonly #held: (() => void)[] = [];
  readonly #server: http.Server;
  readonly #throughput = new Map<string, number>();
  readonly #defaultThroughput: number;
  readonly #pairRate: { max: number; windowMs: number };
  readonly #tokens = new Map<string, string>();
  readonly #recipientErrors = new Map<string, number>();
  readonly #trouble: { trouble: Trouble; phoneNumberId: string | undefined }[] = [];
  readonly #acceptedTimes = new Map<string, number[]>();
  readonly #pairTimes = new Map<string, number[]>();
  readonly #hung = new Set<http.ServerResponse>();

  private constructor(options: GraphSimulatorOptions) {
    this.#defaultThroughput = options.throughputPerSecond ?? 80;
    this.#pairRate = options.pairRate ?? { max: 45, windowMs: 6_000 };
    this.#server = http.createServer((req, res) => this.#handle(req, res));
    this.#server.keepAliveTimeout = 5_000;
  }

  static async start(options: GraphSimulatorOptions = {}): Promise<GraphSimulator> {
    const sim = new GraphSimulator(options);
    await new Promise<void>((resolve) => sim.#server.listen(0, "127.0.0.1", resolve));
    sim.url = `http://127.0.0.1:${(sim.#server.address() as AddressInfo).port}`;
    return sim;
  }

  setThroughput(phoneNumberId: string, perSecond: number): void {
    this.#throughput.set(phoneNumberId, perSecond);
  }

  /** Only this bearer token is accepted for the number; anything else gets 190. */
  setToken(phoneNumberId: string, token: string): void {
    this.#tokens.set(phoneNumberId, token);
  }

  failRecipient(to: string, code: number): void {
    this.#recipientErrors.set(to, code);
  }

  /**
   * The next `count` requests meet `trouble` (before any other check) — only
   * requests for `phoneNumberId` when given, so a straggler of another test
   * (a retry, a reconcile) cannot take one.
   */
  failNext(count: number, trouble: Trouble, phoneNumberId?: string): void {
    for (let i = 0; i < count; i++) this.#trouble.push({ trouble, phoneNumberId });
  }

  /** Drops the scripted trouble still waiting for `phoneNumberId`'s requests. */
  clearTrouble(phoneNumberId: string): void {
    for (let i = this.#trouble.length - 1; i >= 0; i--) if (this.#trouble[i]!.phoneNumberId === phoneNumberId) this.#trouble.splice(i, 1);
  }

  acceptedFor(messageId: string): SimulatedRequest[] {
    return this.requests.filter((r) => r.messageId === messageId && r.outcome === "accepted");
  }

  requestsFor(messageId: string): SimulatedRequest[] {
    return this.requests.filter((r) => r.messageId === messageId);
  }

  /** Most requests the number received in any sliding one-second window (whatever was answered). */
  maxInAnySecond(phoneNumberId: string): number {
    const times = this.requests.filter((r) => r.phoneNumberId === phoneNumberId).map((r) => r.at);
    times.sort((a, b) => a - b);
    let max = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= 1_000) j++;
      max = Math.max(max, i - j + 1);
    }
    return max;
  }

  /** Answers every held send (and stops holding). */
  releaseAnswers(): void {
    this.holdAnswers = false;
    for (const answer of this.#held.splice(0)) answer();
  }

  async close(): Promise<void> {
    for (const res of this.#hung) res.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const at = performance.timeOrigin + performance.now();
      if (this.#handleTemplates(req, res, Buffer.concat(chunks).toString("utf8"))) return;
      const match = /^\/v[\d.]+\/([^/]+)\/messages$/.exec(req.url ?? "");
      if (req.method !== "POST" || !match) return this.#answer(res, 404, { error: { message: "Unknown path", code: 100 } });
      const phoneNumberId = decodeURIComponent(match[1]!);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
      } catch {
        return this.#answer(res, 400, errorBody(100, "body is not JSON"));
      }
      const entry: SimulatedRequest = {
        at,
        phoneNumberId,
        // Meta resolves "+1 415…", "1415…" etc. to one recipient: key it by digits.
        // A user known only by BSUID is addressed by `recipient`; `to` wins when both are given.
        to: body.to !== undefined ? String(body.to).replace(/\D/g, "") : String(body.recipient ?? ""),
        messageId: String(body.biz_opaque_callback_data ?? ""),
        outcome: "rejected",
        answered: true,
        body,
      };
      this.requests.push(entry);
      const decision = this.#decide(phoneNumberId, entry, req.headers.authorization ?? "", at);
      if (decision.kind === "hang") {
        entry.answered = false;
        if (decision.accepted) this.#accept(phoneNumberId, entry, at);
        this.#hung.add(res);
        res.on("close", () => this.#hung.delete(res));
        return;
      }
      if (decision.kind === "accept" && this.holdAnswers) {
        const payload = this.#accept(phoneNumberId, entry, at);
        this.#held.push(() => this.#answer(res, 200, payload));
        return;
      }
      const send = () => (decision.kind === "accept" ? this.#answer(res, 200, this.#accept(phoneNumberId, entry, at)) : this.#answer(res, decision.httpStatus, decision.body));
      if (decision.kind === "reject") entry.code = decision.code;
      if (this.slowMs > 0) setTimeout(send, this.slowMs);
      else send();
    });
  }

  /** Template management (reference §8): create, list (paged), edit, delete. True when the request was one of them. */
  #handleTemplates(req: http.IncomingMessage, res: http.ServerResponse, text: string): boolean {
    const url = new URL(req.url ?? "/", "http://sim");
    const collection = /^\/v[\d.]+\/([^/]+)\/message_templates$/.exec(url.pathname);
    const single = /^\/v[\d.]+\/(\d+)$/.exec(url.pathname);
    if (!collection && !(single && req.method === "POST")) return false;
    let body: Record<string, unknown> | undefined;
    try {
      body = text === "" ? undefined : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      this.#answer(res, 400, errorBody(100, "body is not JSON"));
      return true;
    }
    this.templateCalls.push({ method: req.method ?? "", path: req.url ?? "", authorization: req.headers.authorization ?? "", body });
    // Scripted trouble for template calls only (failNext is for sends: a concurrent sync must not take it).
    const trouble = this.templateTrouble.shift();
    if (trouble && "hang" in trouble) {
      this.#hung.add(res);
      res.on("close", () => this.#hung.delete(res));
      if (!trouble.applied) return true;
      // The call takes effect; its answer never leaves.
      res = { writeHead: () => undefined, end: () => undefined } as unknown as http.ServerResponse;
    } else if (trouble) {
      this.#answer(res, trouble.httpStatus, trouble.body ?? errorBody(trouble.code, trouble.title));
      return true;
    }
    if (single) {
      const template = this.templates.find((t) => t.id === single[1]);
      if (!template) return this.#answer(res, 404, errorBody(100, "template not found")), true;
      if (body?.components) template.components = body.components as unknown[];
      if (typeof body?.category === "string") template.category = body.category;
      template.status = "PENDING";
      this.#answer(res, 200, { success: true });
      return true;
    }
    const wabaId = decodeURIComponent(collection![1]!);
    if (req.method === "POST") {
      const name = String(body?.name ?? "");
      const language = String(body?.language ?? "");
      if (this.templates.some((t) => t.wabaId === wabaId && t.name === name && t.language === language)) {
        this.#answer(res, 400, errorBody(100, `Content in this language already exists for ${name}`));
        return true;
      }
      const template: SimulatedTemplate = {
        id: String(1_000_000_000_000 + this.templates.length * 7919 + Math.floor(Math.random() * 1000)),
        wabaId,
        name,
        language,
        category: String(body?.category ?? ""),
        status: this.createStatus,
        ...(typeof body?.parameter_format === "string" ? { parameter_format: body.parameter_format.toUpperCase() } : {}),
        components: (body?.components as unknown[]) ?? [],
      };
      this.templates.push(template);
      this.#answer(res, 200, { id: template.id, status: template.status, category: template.category });
      return true;
    }
    if (req.method === "DELETE") {
      const name = url.searchParams.get("name");
      const hsmId = url.searchParams.get("hsm_id");
      const before = this.templates.length;
      for (let i = this.templates.length - 1; i >= 0; i--) {
        const t = this.templates[i]!;
        if (t.wabaId === wabaId && t.name === name && (hsmId === null || t.id === hsmId)) this.templates.splice(i, 1);
      }
      if (this.templates.length === before) this.#answer(res, 404, errorBody(100, "template not found"));
      else this.#answer(res, 200, { success: true });
      return true;
    }
    // GET: one page, cursor = index of the next template.
    const all = this.templates.filter((t) => t.wabaId === wabaId);
    const start = Number(url.searchParams.get("after") ?? "0") || 0;
    const size = Math.min(Number(url.searchParams.get("limit") ?? this.templatePageSize) || this.templatePageSize, this.templatePageSize);
    const page = all.slice(start, start + size).map(({ wabaId: _w, ...t }) => t);
    const more = start + size < all.length;
    this.#answer(res, 200, {
      data: page,
      paging: { cursors: { before: String(start), after: String(start + size) }, ...(more ? { next: `${this.url}${url.pathname}?limit=${size}&after=${start + size}` } : {}) },
    });
    return true;
  }

  #decide(
    phoneNumberId: string,
    entry: SimulatedRequest,
    authorization: string,
    at: number,
  ): { kind: "accept" } | { kind: "reject"; httpStatus: number; code: number; body: unknown } | { kind: "hang"; accepted: boolean } {
    const index = this.#trouble.findIndex((t) => t.phoneNumberId === undefined || t.phoneNumberId === phoneNumberId);
    const trouble = index < 0 ? undefined : this.#trouble.splice(index, 1)[0]!.trouble;
    if (trouble?.kind === "hang") return trouble;
    if (trouble?.kind === "error") return reject(trouble.httpStatus, trouble.code, trouble.title);
    const token = this.#tokens.get(phoneNumberId);
    if (token !== undefined && authorization !== `Bearer ${token}`) return reject(401, 190, "Error validating access token: Session has expired");
    if (entry.body.status === "read") return { kind: "accept" };
    if (entry.to === "") return reject(400, 131008, "Required parameter is missing: to or recipient");
    const limit = this.#throughput.get(phoneNumberId) ?? this.#defaultThroughput;
    if (recent(this.#acceptedTimes.get(phoneNumberId), at, 1_000) >= limit) return reject(400, 130429, "Cloud API message throughput has been reached.");
    if (recent(this.#pairTimes.get(`${phoneNumberId}:${entry.to}`), at, this.#pairRate.windowMs) >= this.#pairRate.max) {
      return reject(400, 131056, "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.");
    }
    const permanent = this.#recipientErrors.get(entry.to);
    if (permanent !== undefined) return reject(permanent === 132001 ? 404 : 400, permanent);
    return { kind: "accept" };
  }

  #accept(phoneNumberId: string, entry: SimulatedRequest, at: number): unknown {
    push(this.#acceptedTimes, phoneNumberId, at);
    push(this.#pairTimes, `${phoneNumberId}:${entry.to}`, at);
    entry.outcome = "accepted";
    entry.wamid = `wamid.SIM${randomBytes(12).toString("base64url")}`;
    // Meta answers a BSUID send with `user_id`, a phone send with `wa_id`.
    const contact = entry.body.to === undefined ? { input: entry.to, user_id: entry.to } : { input: String(entry.body.to), wa_id: entry.to };
    return { messaging_product: "whatsapp", contacts: [contact], messages: [{ id: entry.wamid }] };
  }

  #answer(res: http.ServerResponse, status: number, payload: unknown): void {
    const text = JSON.stringify(payload);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  }
}

function reject(httpStatus: number, code: number, details?: string): { kind: "reject"; httpStatus: number; code: number; body: unknown } {
  return { kind: "reject", httpStatus, code, body: errorBody(code, details) };
}

/** Meta's synchronous error shape (reference §6.1). */
export function errorBody(code: number, details?: string): unknown {
  const title = TITLES[code] ?? `Error ${code}`;
  return {
    error: {
      message: `(#${code}) ${title}`,
      type: "OAuthException",
      code,
      error_data: { messaging_product: "whatsapp", details: details ?? title },
      fbtrace_id: randomBytes(9).toString("base64url"),
    },
  };
}

/** How many of `times` fall in (at − windowMs, at]; drops older ones as it goes. */
function recent(times: number[] | undefined, at: number, windowMs: number): number {
  if (!times) return 0;
  while (times.length > 0 && times[0]! <= at - windowMs) times.shift();
  return times.length;
}

function push(map: Map<string, number[]>, key: string, at: number): void {
  const list = map.get(key) ?? [];
  list.push(at);
  map.set(key, list);
}
