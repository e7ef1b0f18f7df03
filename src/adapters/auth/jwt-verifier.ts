import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from "jose";
import { validateTenantId } from "../../domain/tenant.js";
import { AuthFailure, type Principal } from "./principal.js";

/**
 * Algorithms per key source, pinned: the shared secret verifies HS256 only and
 * JWKS keys verify RS256/ES256 only. A token cannot pick its own verification
 * path: an HS256 token "signed" with the JWKS public key as the HMAC secret
 * (algorithm confusion) finds no secret path, and `alg: none` finds none at all.
 */
const SECRET_ALGORITHMS = ["HS256"];
const JWKS_ALGORITHMS = ["RS256", "ES256"];

/** Bearer tokens larger than this are refused before any parsing (real ones are well under 2 KiB). */
const MAX_TOKEN_LENGTH = 8 * 1024;
const JWKS_FETCH_TIMEOUT_MS = 5_000;

export interface JwtVerifierOptions {
  /** HS256 shared secret. */
  secret?: string;
  /** JWKS document for RS256/ES256. */
  jwksUrl?: string;
  /** Required `iss`; undefined → not checked. */
  issuer?: string;
  /** Accepted `aud` values; empty → not checked. */
  audience?: readonly string[];
  clockToleranceSeconds: number;
  /** Keys are refetched at the latest after this; a removed key stops working then. */
  jwksCacheSeconds: number;
  /** An unknown `kid` refetches the JWKS at most this often: a new key works within it. */
  jwksCooldownSeconds: number;
  /** Told when a refusal happens because keys could not be fetched (stale keys used, or none). */
  onJwksFetchError?: (error: unknown) => void;
}

/**
 * Verifies bearer tokens with `jose` and turns their claims into a Principal.
 * Usable from any protocol: `verifyAuthorizationHeader(req.headers.authorization)`.
 */
export class JwtVerifier {
  private readonly secretKey: Uint8Array | undefined;
  private readonly jwks: JWTVerifyGetKey | undefined;
  private readonly claimChecks: JWTVerifyOptions;

  constructor(options: JwtVerifierOptions) {
    if (options.secret === undefined && options.jwksUrl === undefined) {
      throw new Error("JwtVerifier needs a secret, a JWKS URL, or both");
    }
    this.secretKey = options.secret === undefined ? undefined : new TextEncoder().encode(options.secret);
    this.jwks = options.jwksUrl === undefined ? undefined : staleIfErrorJwks(options);
    this.claimChecks = {
      issuer: options.issuer,
      audience: options.audience !== undefined && options.audience.length > 0 ? [...options.audience] : undefined,
      clockTolerance: options.clockToleranceSeconds,
      // jose checks exp only when present; a token that never expires is refused.
      requiredClaims: ["exp"],
    };
  }

  /** `Authorization: Bearer <token>` → Principal, or AuthFailure("unauthenticated"). */
  async verifyAuthorizationHeader(header: string | null | undefined): Promise<Principal> {
    if (header === null || header === undefined || header === "") {
      throw new AuthFailure("unauthenticated", "no authorization header");
    }
    const match = /^Bearer[ \t]+([A-Za-z0-9._~+/=-]+)[ \t]*$/i.exec(header);
    if (match?.[1] === undefined) throw new AuthFailure("unauthenticated", "authorization header is not a bearer token");
    return this.verify(match[1]);
  }

  async verify(token: string): Promise<Principal> {
    if (token.length > MAX_TOKEN_LENGTH) throw new AuthFailure("unauthenticated", `token longer than ${MAX_TOKEN_LENGTH} characters`);
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new AuthFailure("unauthenticated", "token is not a JWS");
    }
    let payload: JWTPayload;
    try {
      if (alg !== undefined && SECRET_ALGORITHMS.includes(alg) && this.secretKey !== undefined) {
        ({ payload } = await jwtVerify(token, this.secretKey, { ...this.claimChecks, algorithms: SECRET_ALGORITHMS }));
      } else if (alg !== undefined && JWKS_ALGORITHMS.includes(alg) && this.jwks !== undefined) {
        ({ payload } = await jwtVerify(token, this.jwks, { ...this.claimChecks, algorithms: JWKS_ALGORITHMS }));
      } else {
        throw new AuthFailure("unauthenticated", `algorithm ${JSON.stringify(alg)} is not accepted by the configured key sources`);
      }
    } catch (error) {
      throw asAuthFailure(error);
    }
    return principalFrom(payload);
  }
}

/** Claims → Principal. The tenant must be a valid tenant id: it names a schema and a subject token. */
function principalFrom(payload: JWTPayload): Principal {
  const tenantId = payload.tenant_id;
  if (typeof tenantId !== "string" || validateTenantId(tenantId) !== undefined) {
    throw new AuthFailure("unauthenticated", "tenant_id claim missing or malformed");
  }
  return {
    subject: typeof payload.sub === "string" && payload.sub !== "" ? payload.sub : undefined,
    tenantId,
    permissions: permissionsFrom(payload.permissions),
    tokenId: typeof payload.jti === "string" && payload.jti !== "" ? payload.jti : undefined,
  };
}

/** A JSON array of strings, or one space-separated string (OAuth `scope` style). Anything else grants nothing. */
function permissionsFrom(claim: unknown): ReadonlySet<string> {
  if (Array.isArray(claim)) return new Set(claim.filter((p): p is string => typeof p === "string" && p !== ""));
  if (typeof claim === "string") return new Set(claim.split(" ").filter((p) => p !== ""));
  return new Set();
}

/**
 * A bad token is the caller's problem (Unauthenticated); keys we could not
 * fetch are ours (Unavailable: the same token may work in a moment).
 */
function asAuthFailure(error: unknown): AuthFailure {
  if (error instanceof AuthFailure) return error;
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
    return new AuthFailure("unavailable", `JWKS unavailable: ${error.code}`);
  }
  if (error instanceof errors.JOSEError && error.code !== "ERR_JOSE_GENERIC") {
    return new AuthFailure("unauthenticated", `${error.code}: ${error.message}`);
  }
  // Generic JOSE errors come from the JWKS fetch (non-200, not JSON); anything else is a network error.
  return new AuthFailure("unavailable", `JWKS unavailable: ${error instanceof Error ? error.message : String(error)}`);
}

/**
 * jose's remote key set, plus stale-if-error: when a refetch fails (the JWKS
 * endpoint is down), the last keys fetched keep verifying tokens instead of
 * every call failing. A key removed from the JWKS stops working at the first
 * successful refetch after `jwksCacheSeconds`.
 */
function staleIfErrorJwks(options: JwtVerifierOptions): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(new URL(options.jwksUrl!), {
    cacheMaxAge: options.jwksCacheSeconds * 1000,
    cooldownDuration: options.jwksCooldownSeconds * 1000,
    timeoutDuration: JWKS_FETCH_TIMEOUT_MS,
  });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      const failure = asAuthFailure(error);
      const lastKnown = remote.jwks();
      if (failure.kind !== "unavailable" || lastKnown === undefined) throw error;
      options.onJwksFetchError?.(error);
      return createLocalJWKSet(lastKnown)(header, token);
    }
  };
}
