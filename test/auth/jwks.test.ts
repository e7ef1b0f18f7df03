/**
 * Acceptance 2 of bearer-token auth: RS256/ES256 tokens verified against a
 * JWKS URL, with key rotation picked up while the service runs, removed keys
 * refused after the cache time, an outage of the JWKS endpoint survived with
 * the keys fetched before, and algorithm confusion refused.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { exportSPKI, importJWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService } from "../../gen/whatsapp/v1/account_pb.js";
import { JwtVerifier } from "../../src/adapters/auth/jwt-verifier.js";
import { AuthFailure } from "../../src/adapters/auth/principal.js";
import { startJwksServer, type JwksServer, type SigningKey } from "../support/jwks-server.js";
import {
  ALL_PERMISSIONS,
  clientWithToken,
  closeClientSessions,
  startTestService,
  TEST_JWT_AUDIENCE,
  TEST_JWT_ISSUER,
  uniqueTenant,
  type TestService,
} from "../support/service.js";
import { eventually } from "../kit/eventually.js";


/** Each probe is an RPC; a tenth of a second apart is often enough. */
const POLL = { everyMs: 100 };

describe("bearer tokens verified with a JWKS URL", () => {
  let jwks: JwksServer;
  let svc: TestService;
  let firstKey: SigningKey;
  const tenant = uniqueTenant("jwks");

  const claims = () => ({ tenant_id: tenant, permissions: [...ALL_PERMISSIONS], sub: "orchestrator", iss: TEST_JWT_ISSUER, aud: TEST_JWT_AUDIENCE });

  /** The code ListAccounts answers with this token ("OK" when accepted). */
  async function codeFor(token: string): Promise<Code | "OK"> {
    try {
      await clientWithToken(AccountService, svc.service.url, token, "connect-json-h1").listAccounts({});
      return "OK";
    } catch (e) {
      return ConnectError.from(e).code;
    }
  }

  beforeAll(async () => {
    jwks = await startJwksServer();
    firstKey = await jwks.addKey("RS256");
    svc = await startTestService({
      auth: "jwt",
      env: {
        AUTH_JWT_SECRET: "", // JWKS only: no HS256 path at all
        AUTH_JWKS_URL: jwks.url,
        AUTH_JWKS_CACHE_SECONDS: "1",
        AUTH_JWKS_COOLDOWN_SECONDS: "1",
      },
    });
  });
  afterAll(async () => {
    closeClientSessions();
    await svc?.cleanup();
    await jwks?.close();
  });

  it("when a token is signed with a key the JWKS serves, then it is accepted (RS256 and ES256)", async () => {
    expect(await codeFor(await jwks.sign(firstKey, claims()))).toBe("OK");
    const ecKey = await jwks.addKey("ES256");
    await eventually("the ES256 key is picked up", async () => (await codeFor(await jwks.sign(ecKey, claims()))) === "OK" || undefined, POLL);
  });

  it("when a new key appears at the JWKS URL, then its tokens are accepted without a restart; when the old one is removed, its tokens stop working", async () => {
    const oldToken = await jwks.sign(firstKey, claims());
    expect(await codeFor(oldToken)).toBe("OK");

    const newKey = await jwks.addKey("RS256");
    const newToken = await jwks.sign(newKey, claims());
    await eventually("a token signed with the new key is accepted", async () => (await codeFor(newToken)) === "OK" || undefined, POLL);
    expect(await codeFor(oldToken)).toBe("OK");

    jwks.removeKey(firstKey.kid);
    await eventually("a token signed with the removed key is refused", async () => (await codeFor(oldToken)) === Code.Unauthenticated || undefined, POLL);
    expect(await codeFor(newToken)).toBe("OK");
  });

  it("when the JWKS endpoint fails after keys were fetched, then tokens keep verifying with those keys", async () => {
    const key = await jwks.addKey("RS256");
    const token = await jwks.sign(key, claims());
    await eventually("the key is picked up", async () => (await codeFor(token)) === "OK" || undefined, POLL);
    jwks.setFailing(true);
    try {
      const fetchesBefore = jwks.fetchCount();
      // Every call during the outage must succeed; keep calling until a refetch has been attempted and failed.
      await eventually("a refetch fails", async () => {
        expect(await codeFor(token)).toBe("OK");
        return jwks.fetchCount() > fetchesBefore || undefined;
      }, POLL);
      expect(await codeFor(token)).toBe("OK");
      expect(svc.logText()).toContain("JWKS refetch failed: verifying with the keys fetched before");
    } finally {
      jwks.setFailing(false);
    }
  });

  it("when a token signed by another key claims the kid of a served key, then it is refused", async () => {
    const served = await jwks.addKey("RS256");
    const elsewhere = await startJwksServer();
    try {
      const impostor = await elsewhere.addKey("RS256");
      const forged = await jwks.sign({ ...impostor, kid: served.kid }, claims());
      expect(await codeFor(forged)).toBe(Code.Unauthenticated);
    } finally {
      await elsewhere.close();
    }
  });

  it("when a token is HS256-signed with the JWKS public key as the secret (algorithm confusion), then it is refused", async () => {
    const pem = await exportSPKI(await importPublic(firstKey));
    for (const secret of [pem, JSON.stringify(firstKey.publicJwk)]) {
      const confused = await new SignJWT(claims())
        .setProtectedHeader({ alg: "HS256", kid: firstKey.kid })
        .setExpirationTime("5m")
        .sign(new TextEncoder().encode(secret));
      expect(await codeFor(confused)).toBe(Code.Unauthenticated);
    }
    expect(svc.logText()).toMatch(/algorithm \\"HS256\\" is not accepted/);
  });

  it("when the service also has an HS256 secret, then an HS256 token made with the public key is still refused", async () => {
    const verifier = new JwtVerifier({
      secret: "the-real-hs256-secret-of-32-bytes-or-more",
      jwksUrl: jwks.url,
      clockToleranceSeconds: 0,
      jwksCacheSeconds: 600,
      jwksCooldownSeconds: 30,
    });
    const confused = await new SignJWT({ tenant_id: tenant })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode(await exportSPKI(await importPublic(firstKey))));
    const failure = await verifier.verify(confused).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(AuthFailure);
    expect((failure as AuthFailure).reason).toMatch(/ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);
  });

  it("when the JWKS endpoint has never answered, then tokens are refused as Unavailable, not as bad tokens", async () => {
    const down = await startJwksServer();
    const key = await down.addKey("RS256");
    down.setFailing(true);
    const verifier = new JwtVerifier({ jwksUrl: down.url, clockToleranceSeconds: 0, jwksCacheSeconds: 600, jwksCooldownSeconds: 30 });
    try {
      const failure = await verifier.verify(await down.sign(key, { tenant_id: tenant })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(failure).toMatchObject({ kind: "unavailable", message: "authorization is temporarily unavailable" });
    } finally {
      await down.close();
    }
  });
});

/** The public half of a served key, as a CryptoKey (what an attacker can download from the JWKS URL). */
async function importPublic(key: SigningKey) {
  return (await importJWK(key.publicJwk, key.alg)) as Parameters<typeof exportSPKI>[0];
}
