import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

import {
  checkTwilioJsonSignature,
  checkTwilioSignature,
  twilioSignature,
  twilioStringToSign,
  urlVariants,
  type FormParams,
} from "./twilio-signature.js";

/** twilio-python's own test vectors (reference §9.3), copied into the fixtures. */
interface Vectors {
  auth_token: string;
  url: string;
  params: Record<string, string>;
  string_to_sign: string;
  "expected_X-Twilio-Signature": string;
  with_port_443_expected: string;
  http_with_port_80_expected: string;
  duplicate_params_case: { params_multidict: [string, string][]; expected: string };
  json_body_case: { body: string; bodySHA256: string; url: string; expected: string };
}

const vectors = JSON.parse(readFileSync(new URL("../../../../test/fixtures/twilio/twilio_signature_test_vectors.json", import.meta.url), "utf8")) as Vectors;
const params: FormParams = Object.entries(vectors.params);
const token = vectors.auth_token;

describe("twilioSignature", () => {
  it("when signing the reference vector, then the string to sign and the signature are twilio-python's", () => {
    expect(twilioStringToSign(vectors.url, params)).toBe(vectors.string_to_sign);
    expect(twilioSignature(token, vectors.url, params)).toBe(vectors["expected_X-Twilio-Signature"]);
  });

  it("when the URL carries the default port, then the signature is the vector's with-port one", () => {
    expect(twilioSignature(token, "https://mycompany.com:443/myapp.php?foo=1&bar=2", params)).toBe(vectors.with_port_443_expected);
    expect(twilioSignature(token, "http://mycompany.com:80/myapp.php?foo=1&bar=2", params)).toBe(vectors.http_with_port_80_expected);
  });

  it("when a name repeats with repeated values, then each value counts once, sorted", () => {
    expect(twilioSignature(token, vectors.url, vectors.duplicate_params_case.params_multidict)).toBe(vectors.duplicate_params_case.expected);
  });
});

describe("checkTwilioSignature", () => {
  const good = vectors["expected_X-Twilio-Signature"];

  it("when the signature is Twilio's, then it is valid; with the default port added or removed too", () => {
    expect(checkTwilioSignature(token, vectors.url, params, good)).toBe("valid");
    // Twilio signed with :443 but we rebuilt the URL without it, and the other way round.
    expect(checkTwilioSignature(token, vectors.url, params, vectors.with_port_443_expected)).toBe("valid");
    expect(checkTwilioSignature(token, "https://mycompany.com:443/myapp.php?foo=1&bar=2", params, good)).toBe("valid");
    expect(checkTwilioSignature(token, "http://mycompany.com/myapp.php?foo=1&bar=2", params, vectors.http_with_port_80_expected)).toBe("valid");
  });

  it("when a parameter, the URL or the token differ, then it is a mismatch", () => {
    expect(checkTwilioSignature(token, vectors.url, [...params, ["Body", "injected"]], good)).toBe("mismatch");
    expect(checkTwilioSignature(token, vectors.url, params.map(([n, v]) => [n, n === "Digits" ? "9999" : v] as const), good)).toBe("mismatch");
    expect(checkTwilioSignature(token, "https://mycompany.com/myapp.php?foo=1&bar=3", params, good)).toBe("mismatch");
    expect(checkTwilioSignature(token, "http://mycompany.com/myapp.php?foo=1&bar=2", params, good)).toBe("mismatch");
    expect(checkTwilioSignature("54321", vectors.url, params, good)).toBe("mismatch");
  });

  it("when the header is absent, repeated or not a base64 HMAC-SHA1, then it is missing or malformed", () => {
    expect(checkTwilioSignature(token, vectors.url, params, undefined)).toBe("missing");
    expect(checkTwilioSignature(token, vectors.url, params, "")).toBe("missing");
    expect(checkTwilioSignature(token, vectors.url, params, [good, good])).toBe("malformed");
    expect(checkTwilioSignature(token, vectors.url, params, "not a signature")).toBe("malformed");
    expect(checkTwilioSignature(token, vectors.url, params, Buffer.alloc(32).toString("base64"))).toBe("malformed");
  });
});

describe("checkTwilioJsonSignature", () => {
  const json = vectors.json_body_case;

  it("when the URL with bodySHA256 is signed and the body hashes to it, then it is valid", () => {
    expect(checkTwilioJsonSignature(token, json.url, Buffer.from(json.body), json.expected)).toBe("valid");
  });

  it("when the body was changed after signing, then it is a mismatch", () => {
    expect(checkTwilioJsonSignature(token, json.url, Buffer.from(json.body.replace("value", "other")), json.expected)).toBe("mismatch");
  });
});

describe("urlVariants", () => {
  it("when a URL has or lacks its default port, then both forms are tried and the path and query are kept verbatim", () => {
    expect(urlVariants("https://a.example/x?y=%2B1")).toEqual(["https://a.example/x?y=%2B1", "https://a.example:443/x?y=%2B1"]);
    expect(urlVariants("http://a.example:80/x")).toEqual(["http://a.example:80/x", "http://a.example/x"]);
    expect(urlVariants("https://a.example:8443/x")).toEqual(["https://a.example:8443/x"]);
  });
});
