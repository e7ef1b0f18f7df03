import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SecretBox } from "./secret-box.js";

describe("SecretBox", () => {
  const box = new SecretBox(randomBytes(32));

  it("when a secret is sealed, then it opens back and the sealed form does not contain it", () => {
    const sealed = box.seal("EAAG-super-secret-token", "account:1");
    expect(sealed).not.toContain("EAAG-super-secret-token");
    expect(box.open(sealed, "account:1")).toBe("EAAG-super-secret-token");
  });

  it("when the same secret is sealed twice, then the ciphertexts differ (fresh IV)", () => {
    expect(box.seal("x", "a")).not.toBe(box.seal("x", "a"));
  });

  it("when a sealed value is moved to another row, then opening it fails", () => {
    const sealed = box.seal("token", "account:1");
    expect(() => box.open(sealed, "account:2")).toThrow();
  });

  it("when the ciphertext is tampered with, then opening it fails", () => {
    const [v, iv, tag, body] = box.seal("token", "a").split(".") as [string, string, string, string];
    const flipped = Buffer.from(body, "base64");
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(() => box.open([v, iv, tag, flipped.toString("base64")].join("."), "a")).toThrow();
  });

  it("when the key is not 32 bytes, then construction fails", () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow(/32-byte/);
  });
});
