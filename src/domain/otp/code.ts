/**
 * The code itself: generated with a cryptographically secure generator,
 * stored only as HMAC-SHA256(key, salt ‖ otp id ‖ code) — a plain hash of a
 * 6-digit code falls to a 10⁶ search — and compared in constant time.
 */
import { createHmac, hkdfSync, randomBytes, randomInt, timingSafeEqual } from "node:crypto";

/** `length` decimal digits, each uniform (rejection sampling inside randomInt). */
export function generateCode(length: number): string {
  let code = "";
  for (let i = 0; i < length; i++) code += String(randomInt(10));
  return code;
}

/** A fresh per-OTP salt (hex). */
export function newSalt(): string {
  return randomBytes(16).toString("hex");
}

/**
 * The HMAC key for codes, derived from the service's encryption key (HKDF,
 * its own label) so the AES key itself is never used for two purposes.
 */
export function deriveCodeKey(encryptionKey: Buffer): Buffer {
  return Buffer.from(hkdfSync("sha256", encryptionKey, Buffer.alloc(0), "whatsapp-service otp code hmac v1", 32));
}

export function hashCode(key: Buffer, salt: string, otpId: string, code: string): string {
  // Length-prefixed parts: no two (salt, id, code) triples share an input.
  const mac = createHmac("sha256", key);
  for (const part of [salt, otpId, code]) {
    const bytes = Buffer.from(part, "utf8");
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    mac.update(length).update(bytes);
  }
  return mac.digest("hex");
}

/** Constant-time comparison of `code` with the stored hash. */
export function codeMatches(key: Buffer, otp: { codeSalt: string; id: string; codeHash: string }, code: string): boolean {
  const expected = Buffer.from(otp.codeHash, "hex");
  const actual = Buffer.from(hashCode(key, otp.codeSalt, otp.id, code), "hex");
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
