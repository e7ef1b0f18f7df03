import { base64url, SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import { JwtVerifier } from "./jwt-verifier.js";
import { AuthFailure } from "./principal.js";

const SECRET = "unit-test-secret-that-is-at-least-32-bytes";
const key = new TextEncoder().encode(SECRET);
const verifier = new JwtVerifier({
  secret: SECRET,
  issuer: "https://iam.example",
  audience: ["whatsapp-service"],
  clockToleranceSeconds: 5,
  jwksCacheSeconds: 600,
  jwksCooldownSeconds: 30,
});

interface Claims {
  tenant_id?: unknown;
  permissions?: unknown;
  sub?: string;
  iss?: string;
  aud?: string;
  exp?: number | null;
  nbf?: number;
}

const now = () => Math.floor(Date.now() / 1000);

function sign(claims: Claims = {}, secret: Uint8Array = key): Promise<string> {
  const { exp, ...rest } = claims;
  const body = { tenant_id: "acme", permissions: ["whatsapp:read"], sub: "orchestrator", iss: "https://iam.example", aud: "whatsapp-service", ...rest };
  const jwt = new SignJWT(body).setProtectedHeader({ alg: "HS256" });
  if (exp !== null) jwt.setExpirationTime(exp ?? now() + 60);
  return jwt.sign(secret);
}

async function refusal(promise: Promise<unknown>): Promise<AuthFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthFailure);
  return error as AuthFailure;
}

describe("JwtVerifier with an HS256 secret", () => {
  it("when the token is valid, then the principal carries tenant, subject and permissions", async () => {
    const principal = await verifier.verifyAuthorizationHeader(`Bearer ${await sign({ permissions: ["whatsapp:read", "whatsapp:send"] })}`);
    expect(principal).toMatchObject({ tenantId: "acme", subject: "orchestrator" });
    expect([...principal.permissions]).toEqual(["whatsapp:read", "whatsapp:send"]);
  });

  it("when permissions is a space-separated string, then each word is a permission", async () => {
    const principal = await verifier.verify(await sign({ permissions: "whatsapp:read whatsapp:verify" }));
    expect([...principal.permissions]).toEqual(["whatsapp:read", "whatsapp:verify"]);
  });

  it("when permissions is missing or not strings, then the principal has none", async () => {
    expect((await verifier.verify(await sign({ permissions: undefined }))).permissions.size).toBe(0);
    expect([...(await verifier.verify(await sign({ permissions: [1, "whatsapp:read", null] }))).permissions]).toEqual(["whatsapp:read"]);
  });

  const refused: [string, () => Promise<string>, RegExp][] = [
    ["it expired", () => sign({ exp: now() - 60 }), /ERR_JWT_EXPIRED/],
    ["it is not valid yet (nbf)", () => sign({ nbf: now() + 600 }), /ERR_JWT_CLAIM_VALIDATION_FAILED/],
    ["it has no exp", () => sign({ exp: null }), /ERR_JWT_CLAIM_VALIDATION_FAILED.*exp/],
    ["the issuer differs", () => sign({ iss: "https://evil.example" }), /iss/],
    ["the audience differs", () => sign({ aud: "another-service" }), /aud/],
    ["it is signed with another secret", () => sign({}, new TextEncoder().encode("another-secret-that-is-at-least-32-bytes!!")), /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/],
    ["tenant_id is missing", () => sign({ tenant_id: undefined }), /tenant_id/],
    ["tenant_id is not a valid tenant id", () => sign({ tenant_id: "acme.*" }), /tenant_id/],
    ["tenant_id is not a string", () => sign({ tenant_id: 42 }), /tenant_id/],
    ["alg is none", async () => new UnsecuredJWT({ tenant_id: "acme", permissions: ["whatsapp:admin"] }).setExpirationTime("1h").encode(), /algorithm "none"/],
    ["alg is RS256 but no JWKS is configured", async () => rs256LookingToken(), /algorithm "RS256"/],
    ["it is not a JWT", async () => "not-a-jwt", /not a JWS/],
  ];
  for (const [situation, token, reason] of refused) {
    it(`when ${situation}, then it is refused as unauthenticated with the generic message`, async () => {
      const failure = await refusal(verifier.verify(await token()));
      expect(failure.kind).toBe("unauthenticated");
      expect(failure.message).toBe("invalid or missing bearer token");
      expect(failure.reason).toMatch(reason);
    });
  }

  it("when the signature is tampered with (payload changed), then it is refused", async () => {
    const [header, , signature] = (await sign()).split(".");
    const payload = base64url.encode(JSON.stringify({ tenant_id: "globex", permissions: ["whatsapp:admin"], exp: now() + 60 }));
    expect((await refusal(verifier.verify(`${header}.${payload}.${signature}`))).kind).toBe("unauthenticated");
  });

  for (const header of [undefined, null, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer a b"]) {
    it(`when the authorization header is ${JSON.stringify(header)}, then it is refused as unauthenticated`, async () => {
      expect((await refusal(verifier.verifyAuthorizationHeader(header))).kind).toBe("unauthenticated");
    });
  }

  it("when the token is absurdly large, then it is refused before parsing", async () => {
    const failure = await refusal(verifier.verify("a".repeat(9000)));
    expect(failure.reason).toMatch(/longer than/);
  });
});

/** A syntactically valid RS256-headed token (the signature does not matter: it must be refused before). */
function rs256LookingToken(): string {
  const part = (value: unknown) => base64url.encode(JSON.stringify(value));
  return `${part({ alg: "RS256", kid: "k1" })}.${part({ tenant_id: "acme", exp: now() + 60 })}.${base64url.encode("sig")}`;
}
