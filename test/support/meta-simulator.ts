/**
 * A local stand-in for Meta's webhook sender, built from the wire-format
 * reference (whatsapp-cloud-api.md §1–4) and real captured payloads
 * (test/fixtures/meta/). Deliveries are serialised and signed exactly as Meta
 * does it, so a service that re-serialises before checking fails here as it
 * would in production.
 *
 * API
 *
 * Serialise and sign
 * - `metaJson(value)`: Meta's serialisation — compact, pure ASCII, lowercase
 *   `\uXXXX` escapes (emoji as surrogate pairs), `/` written `\/`.
 * - `metaSignature(body, appSecret)`: `sha256=<lowercase hex>` over the bytes.
 * - `signDelivery(payload, appSecret)`: `{ payload, body, signature }`.
 * - `REAL_CAPTURE`: a body Meta really sent, byte for byte, with the
 *   reference's signature for app secret `test_app_secret`.
 *
 * Payloads
 * - `metaFixture(name)`: a captured delivery (e.g. `"pywa_message__text"`),
 *   parsed; `metaFixtureNames()` lists them.
 * - `retarget(payload, { phoneNumberId, displayPhoneNumber?, wabaId? })`: a
 *   copy addressed to your test account.
 * - `metaEnvelope(wabaId, changes)`, `messagesChange({ phoneNumberId, ... })`,
 *   `contact(waId, name)`, `textMessage({ from, body, ... })`,
 *   `statusUpdate({ id, status, recipientId, ... })`, `metaError(code, ...)`.
 * - `newWamid()`, `unixSeconds(date?)`.
 *
 * Send
 * - `deliver(url, payloadOrBytes, { appSecret, duplicates?, ... })`: one
 *   signed POST to the full webhook URL (e.g. `${service.url}/webhook`),
 *   optionally re-sent byte-identical like Meta's retries; `signature`
 *   overrides the header (`null` leaves it out) for negative tests.
 * - `deliverAll(url, deliveries, { concurrency })`: many, concurrently.
 * - `verifyWebhook(url, { mode?, token, challenge? })`: the GET handshake.
 *
 * Scenarios
 * - `inboundScenario({ appSecret, phoneNumberId, messages, perDelivery,
 *   duplicateRate, shuffle, seed, statusesFor })`: N unique inbound
 *   messages (and optional status updates for outbound wamids), batched
 *   several per POST, some deliveries duplicated, order shuffled — with the
 *   unique wamids and statuses a correct receiver must end up with.
 */
import { createHmac, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const FIXTURES_DIR = path.resolve(import.meta.dirname, "../fixtures/meta");

// ---------------------------------------------------------------- payload types

/** JSON as Meta sends it; only the fields the builders set are typed. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The envelope (§3.1). Only the fields the builders set are typed; captured fixtures carry more. */
export type MetaPayload = { object: string; entry: MetaEntry[] };

export type MetaEntry = {
  /** The WhatsApp Business Account id. */
  id: string;
  /** Unix seconds; present on management fields, absent on `messages`. */
  time?: number;
  changes: MetaChange[];
};

export type MetaChange = { value: { [key: string]: Json }; field: string };

export type StatusName = "sent" | "delivered" | "read" | "failed" | "played";

// ---------------------------------------------------------------- serialise and sign

/**
 * Meta's bytes for `value`: compact separators, every character outside
 * printable ASCII as a lowercase `\uXXXX` escape (UTF-16 code units, so emoji
 * become surrogate pairs; DEL too, like Python's `ensure_ascii`), and `/` as
 * `\/`. `/` can only occur inside JSON strings, so replacing it everywhere is
 * exact.
 */
export function metaJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
    .replace(/\//g, "\\/");
}

export function metaSignature(body: Uint8Array | string, appSecret: string): string {
  return `sha256=${createHmac("sha256", appSecret).update(body).digest("hex")}`;
}

export interface SignedDelivery {
  /** The payload as built (absent for raw bytes). */
  payload?: unknown;
  /** The exact bytes that are sent and signed. */
  body: Buffer;
  signature: string;
}

export function signDelivery(payload: unknown, appSecret: string): SignedDelivery {
  const body = Buffer.from(metaJson(payload), "ascii");
  return { payload, body, signature: metaSignature(body, appSecret) };
}

/**
 * A real delivery (image with a caption "Hola quiero un café"), as Meta sent
 * it; the reference (§2.1 item 2) gives its signature under `test_app_secret`.
 */
export const REAL_CAPTURE = {
  body: readFileSync(path.join(FIXTURES_DIR, "real_image_caption_capture.raw.json")),
  appSecret: "test_app_secret",
  signature: "sha256=338df3b12f3c7722d60ab87b048e4aca1b951c036cb7f34cca3ccfb4969b59e0",
} as const;

// ---------------------------------------------------------------- payloads

/** A captured delivery by file name without `.json`, parsed (a fresh copy each call). */
export function metaFixture(name: string): MetaPayload {
  return JSON.parse(readFileSync(path.join(FIXTURES_DIR, `${name}.json`), "utf8")) as MetaPayload;
}

export function metaFixtureNames(): string[] {
  return readdirSync(FIXTURES_DIR)
    .filter((f) => f.startsWith("pywa_") && f.endsWith(".json"))
    .map((f) => f.slice(0, -".json".length))
    .sort();
}

/** A copy of `payload` addressed to another number (and WABA): every change's metadata and every entry id. */
export function retarget(payload: MetaPayload, to: { phoneNumberId: string; displayPhoneNumber?: string; wabaId?: string }): MetaPayload {
  const copy = structuredClone(payload);
  for (const entry of copy.entry) {
    if (to.wabaId !== undefined) entry.id = to.wabaId;
    for (const change of entry.changes) {
      const metadata = change.value.metadata;
      if (metadata !== null && typeof metadata === "object" && !Array.isArray(metadata)) {
        metadata.phone_number_id = to.phoneNumberId;
        if (to.displayPhoneNumber !== undefined) metadata.display_phone_number = to.displayPhoneNumber;
      }
    }
  }
  return copy;
}

export function metaEnvelope(wabaId: string, changes: MetaChange[]): MetaPayload {
  return { object: "whatsapp_business_account", entry: [{ id: wabaId, changes }] };
}

/** A `field: "messages"` change in Meta's key order (messaging_product, metadata, contacts, messages/statuses/errors). */
export function messagesChange(options: {
  phoneNumberId: string;
  displayPhoneNumber?: string;
  contacts?: Json[];
  messages?: Json[];
  statuses?: Json[];
  errors?: Json[];
}): MetaChange {
  const value: { [key: string]: Json } = {
    messaging_product: "whatsapp",
    metadata: { display_phone_number: options.displayPhoneNumber ?? "15550783881", phone_number_id: options.phoneNumberId },
  };
  if (options.contacts?.length) value.contacts = options.contacts;
  if (options.messages?.length) value.messages = options.messages;
  if (options.statuses?.length) value.statuses = options.statuses;
  if (options.errors?.length) value.errors = options.errors;
  return { value, field: "messages" };
}

export function contact(waId: string, name: string): Json {
  return { profile: { name }, wa_id: waId };
}

/** `wamid.` + base64 like Meta's (may contain `=`, `+`, `/`). */
export function newWamid(): string {
  return `wamid.HBgL${randomBytes(24).toString("base64")}`;
}

/** Meta's timestamps: a STRING of Unix seconds in messages and statuses. */
export function unixSeconds(at: Date = new Date()): string {
  return String(Math.floor(at.getTime() / 1000));
}

export function textMessage(options: { from: string; body: string; id?: string; timestamp?: string; context?: Json }): Json {
  const message: { [key: string]: Json } = {
    from: options.from,
    id: options.id ?? newWamid(),
    timestamp: options.timestamp ?? unixSeconds(),
  };
  if (options.context !== undefined) message.context = options.context;
  message.text = { body: options.body };
  message.type = "text";
  return message;
}

export function metaError(code: number, title: string, details = title): Json {
  return {
    code,
    title,
    message: title,
    error_data: { details },
    href: "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
  };
}

/** A `statuses[]` element; `sent` carries conversation and pricing like Meta's PMP examples, `failed` its errors. */
export function statusUpdate(options: {
  id: string;
  status: StatusName;
  recipientId: string;
  timestamp?: string;
  errors?: Json[];
  bizOpaqueCallbackData?: string;
}): Json {
  const status: { [key: string]: Json } = {
    id: options.id,
    status: options.status,
    timestamp: options.timestamp ?? unixSeconds(),
    // A BSUID recipient (a username adopter) is reported by `recipient_user_id` alone.
    ...(/^[A-Z]{2}\./.test(options.recipientId) ? { recipient_user_id: options.recipientId } : { recipient_id: options.recipientId }),
  };
  if (options.bizOpaqueCallbackData !== undefined) status.biz_opaque_callback_data = options.bizOpaqueCallbackData;
  if (options.status === "sent") {
    status.pricing = { billable: true, pricing_model: "PMP", category: "service", type: "free_customer_service" };
  }
  if (options.status === "failed") status.errors = options.errors ?? [metaError(131026, "Message undeliverable")];
  return status;
}

// ---------------------------------------------------------------- send

export interface DeliveryResponse {
  status: number;
  text: string;
}

export interface DeliveryResult extends DeliveryResponse {
  /** The answers to the byte-identical re-sends (`duplicates`), in order. */
  duplicates: DeliveryResponse[];
}

export interface DeliverOptions {
  appSecret: string;
  /** Header value to send instead of the right signature; `null` sends none. */
  signature?: string | null;
  /** Re-send the same bytes this many times after the first answer, like Meta's retries. */
  duplicates?: number;
  headers?: Record<string, string>;
}

/**
 * POSTs one delivery to `url` (the full webhook URL). `payload` is built
 * into Meta's bytes and signed; a Buffer or string is sent (and signed) as is.
 */
export async function deliver(url: string, payload: unknown, options: DeliverOptions): Promise<DeliveryResult> {
  const body = Buffer.isBuffer(payload) ? payload : typeof payload === "string" ? Buffer.from(payload, "utf8") : signDelivery(payload, options.appSecret).body;
  const signature = options.signature === undefined ? metaSignature(body, options.appSecret) : options.signature;
  const first = await post(url, body, signature, options.headers);
  const duplicates: DeliveryResponse[] = [];
  for (let i = 0; i < (options.duplicates ?? 0); i++) duplicates.push(await post(url, body, signature, options.headers));
  return { ...first, duplicates };
}

/** Sends every delivery (already signed) with at most `concurrency` in flight; answers in input order. */
export async function deliverAll(url: string, deliveries: readonly SignedDelivery[], options: { concurrency?: number } = {}): Promise<DeliveryResponse[]> {
  const results: DeliveryResponse[] = new Array<DeliveryResponse>(deliveries.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < deliveries.length; i = next++) {
      const delivery = deliveries[i]!;
      results[i] = await post(url, delivery.body, delivery.signature);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 16, deliveries.length)) }, worker));
  return results;
}

/** Meta's GET handshake with the literal dotted parameter names. */
export async function verifyWebhook(url: string, options: { token: string; challenge?: string; mode?: string }): Promise<DeliveryResponse> {
  const query = new URLSearchParams({
    "hub.mode": options.mode ?? "subscribe",
    "hub.challenge": options.challenge ?? String(1_000_000_000 + Math.floor(Math.random() * 1_000_000_000)),
    "hub.verify_token": options.token,
  });
  const response = await fetch(`${url}?${query}`);
  return { status: response.status, text: await response.text() };
}

async function post(url: string, body: Buffer, signature: string | null, headers: Record<string, string> = {}): Promise<DeliveryResponse> {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": "facebookexternalua",
      ...(signature === null ? {} : { "x-hub-signature-256": signature }),
      ...headers,
    },
    body,
  });
  return { status: response.status, text: await response.text() };
}

// ---------------------------------------------------------------- scenarios

export interface ScenarioOptions {
  appSecret: string;
  phoneNumberId: string;
  displayPhoneNumber?: string;
  wabaId?: string;
  /** Unique inbound text messages to generate. */
  messages: number;
  /** Status updates for these outbound wamids: each goes sent → delivered → read (before shuffling). */
  statusesFor?: readonly string[];
  /** Messages/statuses per POST (Meta batches up to 1,000); default 1. */
  perDelivery?: number;
  /** Fraction of deliveries sent twice (byte-identical); default 0. */
  duplicateRate?: number;
  /** Shuffle delivery order (deterministic with `seed`); default false. */
  shuffle?: boolean;
  seed?: number;
  /** Distinct senders to spread messages over; default 5. */
  senders?: number;
}

export interface Scenario {
  /** In send order, duplicates included. */
  deliveries: SignedDelivery[];
  /** Every inbound wamid, once. */
  wamids: string[];
  /** Every (outbound wamid, status) sent, once. */
  statuses: { id: string; status: StatusName }[];
  /** How many deliveries are re-sends. */
  duplicateCount: number;
}

/** Texts that exercise Meta's escaping: accents, emoji (surrogate pairs), slashes, quotes. */
const SAMPLE_TEXTS = ["Hola, quiero un café", "Pedido #42 listo? 😮👍", "ok", "Ver https://example.com/a/b", 'Dijo "gracias" ✓', "Ünïcødé 中文"];

export function inboundScenario(options: ScenarioOptions): Scenario {
  const random = seededRandom(options.seed ?? 1);
  const senders = Array.from({ length: options.senders ?? 5 }, (_, i) => ({ waId: `1650555${String(1000 + i).padStart(4, "0")}`, name: `Cliente ${i} José` }));
  type Item = { kind: "message"; sender: (typeof senders)[number]; message: Json } | { kind: "status"; status: Json };
  const items: Item[] = [];
  const wamids: string[] = [];
  for (let i = 0; i < options.messages; i++) {
    const sender = senders[i % senders.length]!;
    const id = newWamid();
    wamids.push(id);
    items.push({ kind: "message", sender, message: textMessage({ from: sender.waId, id, body: SAMPLE_TEXTS[i % SAMPLE_TEXTS.length]! }) });
  }
  const statuses: Scenario["statuses"] = [];
  for (const [i, id] of (options.statusesFor ?? []).entries()) {
    for (const status of ["sent", "delivered", "read"] as const) {
      statuses.push({ id, status });
      items.push({ kind: "status", status: statusUpdate({ id, status, recipientId: senders[i % senders.length]!.waId }) });
    }
  }

  const perDelivery = Math.max(1, Math.min(options.perDelivery ?? 1, 1000));
  const deliveries: SignedDelivery[] = [];
  for (let start = 0; start < items.length; start += perDelivery) {
    const chunk = items.slice(start, start + perDelivery);
    const messages = chunk.flatMap((item) => (item.kind === "message" ? [item.message] : []));
    const contacts = [...new Map(chunk.flatMap((item) => (item.kind === "message" ? [[item.sender.waId, contact(item.sender.waId, item.sender.name)] as const] : []))).values()];
    const change = messagesChange({
      phoneNumberId: options.phoneNumberId,
      displayPhoneNumber: options.displayPhoneNumber,
      contacts,
      messages,
      statuses: chunk.flatMap((item) => (item.kind === "status" ? [item.status] : [])),
    });
    deliveries.push(signDelivery(metaEnvelope(options.wabaId ?? "102290129340398", [change]), options.appSecret));
  }

  const duplicateRate = options.duplicateRate ?? 0;
  const originals = deliveries.length;
  let duplicateCount = 0;
  for (let i = 0; i < originals; i++) {
    if (random() < duplicateRate) {
      deliveries.push(deliveries[i]!);
      duplicateCount++;
    }
  }
  if (options.shuffle) shuffleInPlace(deliveries, random);
  return { deliveries, wamids, statuses, duplicateCount };
}

/** mulberry32: small, fast and deterministic, so a failing scenario can be replayed by its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffleInPlace<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}
