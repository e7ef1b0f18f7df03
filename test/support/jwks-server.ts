/**
 * A local JWKS endpoint on port 0 for bearer-token tests: it serves the public
 * halves of the keys it holds, keys can be added and removed while it runs
 * (rotation), it can be told to fail (an outage), and it counts fetches.
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";

export type AsymmetricAlg = "RS256" | "ES256";

export interface SigningKey {
  kid: string;
  alg: AsymmetricAlg;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export interface JwksServer {
  /** The JWKS document URL (for AUTH_JWKS_URL). */
  url: string;
  /** Generates a key pair; its public key is served from now on. */
  addKey(alg?: AsymmetricAlg): Promise<SigningKey>;
  /** Stops serving a key (its tokens fail once the service refetches). */
  removeKey(kid: string): void;
  /** While true, every fetch answers 503. */
  setFailing(failing: boolean): void;
  /** Successful and failed fetches so far. */
  fetchCount(): number;
  sign(key: SigningKey, claims: JWTPayload, options?: { expiresInSeconds?: number }): Promise<string>;
  close(): Promise<void>;
}

export async function startJwksServer(): Promise<JwksServer> {
  const keys = new Map<string, SigningKey>();
  let failing = false;
  let fetches = 0;
  const server: Server = createServer((req, res) => {
    fetches += 1;
    if (failing) {
      res.writeHead(503).end();
      return;
    }
    const body = JSON.stringify({ keys: [...keys.values()].map((k) => k.publicJwk) });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    async addKey(alg = "RS256") {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      const kid = `${alg.toLowerCase()}-${randomBytes(4).toString("hex")}`;
      const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
      const key = { kid, alg, privateKey, publicJwk };
      keys.set(kid, key);
      return key;
    },
    removeKey: (kid) => void keys.delete(kid),
    setFailing: (value) => void (failing = value),
    fetchCount: () => fetches,
    async sign(key, claims, options = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT(claims)
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT" })
        .setIssuedAt(now)
        .setExpirationTime(now + (options.expiresInSeconds ?? 300))
        .sign(key.privateKey);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
