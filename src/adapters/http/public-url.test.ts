import { describe, expect, it } from "vitest";

import { requestedUrl } from "./public-url.js";

const req = (url: string, headers: Record<string, string>) => ({ url, headers });

describe("requestedUrl", () => {
  const proxied = req("/webhook/twilio?x=1", { host: "10.0.0.7:8000", "x-forwarded-proto": "https", "x-forwarded-host": "wa.example.com" });

  it("when PUBLIC_URL is set, then it is the base whatever the headers say (a prefix kept, a trailing slash dropped)", () => {
    expect(requestedUrl(proxied, { publicUrl: "https://api.example.com/whatsapp/", trustProxyHeaders: true })).toBe("https://api.example.com/whatsapp/webhook/twilio?x=1");
  });

  it("when forwarded headers are trusted, then the first proto and host are used", () => {
    const twice = req("/webhook/twilio", { host: "svc", "x-forwarded-proto": "https, http", "x-forwarded-host": "wa.example.com, lb.internal" });
    expect(requestedUrl(twice, { publicUrl: undefined, trustProxyHeaders: true })).toBe("https://wa.example.com/webhook/twilio");
  });

  it("when forwarded headers are not trusted, then they are ignored and the Host is used over plain HTTP", () => {
    expect(requestedUrl(proxied, { publicUrl: undefined, trustProxyHeaders: false })).toBe("http://10.0.0.7:8000/webhook/twilio?x=1");
  });
});
