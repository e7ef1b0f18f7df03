import { describe, expect, it } from "vitest";
import { checkMetaSignature, constantTimeEquals, metaSignature } from "./meta-signature.js";

// A body Meta really sent (see test/fixtures/meta/real_image_caption_capture.raw.json)
// and the reference's signature for it under app secret `test_app_secret`.
const CAPTURED = String.raw`{"object":"whatsapp_business_account","entry":[{"id":"952399544271620","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15556393799","phone_number_id":"1025723653965602"},"contacts":[{"profile":{"name":"Carlos Polanco"},"wa_id":"51920155032","user_id":"PE.967744529547245"}],"messages":[{"from":"51920155032","from_user_id":"PE.967744529547245","id":"wamid.HBgLNTE5MjAxNTUwMzIVAgASGCBBQ0Y5NUJBQkZDRkJDM0NCMjdCNDk4MDQwRjhFRkJGNgA=","timestamp":"1778766865","type":"image","image":{"caption":"Hola quiero un caf\u00e9","mime_type":"image\/jpeg","sha256":"HCaHabZ6gVq4V\/SPmMzBTWkoEUI8NgjfVshSveeWM3c=","id":"27251809591111687","url":"https:\/\/lookaside.fbsbx.com\/whatsapp_business\/attachments\/?mid=27251809591111687&source=webhook&ext=1778767167&hash=ARkmzY3OC-p0F9jJeqlf0KxeMiqXaSp1p4Om4x3WbooRFw"}}]},"field":"messages"}]}]}`;
const CAPTURED_SIGNATURE = "sha256=338df3b12f3c7722d60ab87b048e4aca1b951c036cb7f34cca3ccfb4969b59e0";

describe("metaSignature / checkMetaSignature", () => {
  const body = Buffer.from(CAPTURED, "ascii");

  it("when signing the captured body with the reference's secret, then it gives the reference's signature", () => {
    expect(metaSignature("test_app_secret", body)).toBe(CAPTURED_SIGNATURE);
    expect(checkMetaSignature("test_app_secret", body, CAPTURED_SIGNATURE)).toBe("valid");
  });

  it("when the body was re-serialised as UTF-8, then the captured signature no longer matches", () => {
    const redumped = Buffer.from(JSON.stringify(JSON.parse(CAPTURED)), "utf8");
    expect(checkMetaSignature("test_app_secret", redumped, CAPTURED_SIGNATURE)).toBe("mismatch");
  });

  it("when one byte of the body changes, then it is a mismatch", () => {
    const tampered = Buffer.from(body);
    const at = tampered.length - 5;
    tampered.writeUInt8(tampered.readUInt8(at) ^ 0x01, at);
    expect(checkMetaSignature("test_app_secret", tampered, CAPTURED_SIGNATURE)).toBe("mismatch");
  });

  it("when the secret is wrong, then it is a mismatch", () => {
    expect(checkMetaSignature("another_secret", body, CAPTURED_SIGNATURE)).toBe("mismatch");
  });

  it("when the header is absent or empty, then it is missing", () => {
    expect(checkMetaSignature("test_app_secret", body, undefined)).toBe("missing");
    expect(checkMetaSignature("test_app_secret", body, "")).toBe("missing");
  });

  it("when the header is not sha256=<64 hex> (sha1, truncated, bare hex, repeated), then it is malformed", () => {
    const hex = CAPTURED_SIGNATURE.slice("sha256=".length);
    for (const header of [`sha1=${hex.slice(0, 40)}`, `sha256=${hex.slice(0, 63)}`, hex, `sha256=${hex}00`, `sha256=${hex.slice(0, 62)}zz`]) {
      expect(checkMetaSignature("test_app_secret", body, header)).toBe("malformed");
    }
    expect(checkMetaSignature("test_app_secret", body, [CAPTURED_SIGNATURE, CAPTURED_SIGNATURE])).toBe("malformed");
  });

  it("when the hex digits are upper case, then the signature is still recognised", () => {
    expect(checkMetaSignature("test_app_secret", body, `sha256=${CAPTURED_SIGNATURE.slice(7).toUpperCase()}`)).toBe("valid");
  });
});

describe("constantTimeEquals", () => {
  it("when strings are equal, then true; when they differ in content or length, then false", () => {
    expect(constantTimeEquals("verify-me", "verify-me")).toBe(true);
    expect(constantTimeEquals("verify-me", "verify-mE")).toBe(false);
    expect(constantTimeEquals("verify-me", "verify-me-longer")).toBe(false);
    expect(constantTimeEquals("", "x")).toBe(false);
  });
});
