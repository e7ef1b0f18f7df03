import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/**
 * Meta's webhook signature: `X-Hub-Signature-256: sha256=<64 lowercase hex>`,
 * the HMAC-SHA256 of the raw request body keyed with the app secret.
 *
 * Always over the raw bytes: Meta signs its own ASCII-escaped serialisation,
 * so a parse-and-redump changes the bytes (and the signature) whenever the
 * text is not plain ASCII.
 */
export const META_SIGNATURE_HEADER = "x-hub-signature-256";

const SIGNATURE_FORMAT = /^sha256=([0-9a-fA-F]{64})$/;

/** Why a signature was refused, for logs and counters (never the signature itself). */
export type SignatureCheck = "valid" | "missing" | "malformed" | "mismatch";

/** `sha256=<hex>` for `body` under `appSecret`, as Meta sends it. */
export function metaSignature(appSecret: string, body: Uint8Array): string {
  return `sha256=${createHmac("sha256", appSecret).update(body).digest("hex")}`;
}

/**
 * Checks the header against the body in constant time: the expected digest
 * and the presented one are both 32 raw bytes when compared, so neither the
 * comparison nor a length check leaks how much of a forgery was right.
 */
export function checkMetaSignature(appSecret: string, body: Uint8Array, header: string | string[] | undefined): SignatureCheck {
  if (header === undefined || header === "") return "missing";
  // A repeated header is an attempt to confuse, not something Meta sends.
  if (Array.isArray(header)) return "malformed";
  const match = SIGNATURE_FORMAT.exec(header.trim());
  if (!match?.[1]) return "malformed";
  const presented = Buffer.from(match[1], "hex");
  const expected = createHmac("sha256", appSecret).update(body).digest();
  return timingSafeEqual(presented, expected) ? "valid" : "mismatch";
}

/**
 * Constant-time equality of two strings of any length (verify tokens): both
 * are hashed first so the compared buffers always have the same length and
 * the time taken says nothing about the stored token's length or prefix.
 */
export function constantTimeEquals(a: string, b: string): boolean {
  const digestA = createHash("sha256").update(a, "utf8").digest();
  const digestB = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(digestA, digestB);
}
