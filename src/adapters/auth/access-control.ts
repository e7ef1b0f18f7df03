/**
 * The whole access decision for one call, independent of the protocol that
 * carries it: authenticate (bearer token → Principal), admit (the tenant's
 * request rate), authorise (the access table, then IAM when configured). The
 * Connect interceptors use it; REST calls reach it through those same
 * interceptors (the REST layer calls the Connect handlers in memory).
 */
import type { AuthMode, Config } from "../../config.js";
import type { Logger } from "../../observability/logger.js";
import { IamClient } from "./iam-client.js";
import { JwtVerifier } from "./jwt-verifier.js";
import { iamActionFor, type RpcRule } from "./permissions.js";
import { AuthFailure, type Principal } from "./principal.js";
import { TenantRateLimiter } from "./rate-limiter.js";

export interface AuthorizationRequest {
  /** Proto method name (`SendMessage`): the IAM action is derived from it. */
  methodName: string;
  rule: RpcRule;
  /** The account the request names, when it names one: IAM may decide per account. */
  accountId: string | undefined;
  /** The caller's raw token, relayed to IAM so it can authenticate the question. */
  bearerToken: string | undefined;
}

export class AccessControl {
  constructor(
    readonly mode: AuthMode,
    private readonly parts: {
      verifier?: JwtVerifier;
      limiter?: TenantRateLimiter;
      iam?: IamClient;
      logger: Logger;
    },
  ) {
    if (mode === "jwt" && parts.verifier === undefined) throw new Error("AUTH_MODE=jwt needs a token verifier");
  }

  /** Bearer header → Principal. Throws AuthFailure("unauthenticated" | "unavailable"). */
  authenticate(authorizationHeader: string | null | undefined): Promise<Principal> {
    if (this.parts.verifier === undefined) {
      return Promise.reject(new AuthFailure("unauthenticated", "bearer tokens are not verified in AUTH_MODE=none"));
    }
    return this.parts.verifier.verifyAuthorizationHeader(authorizationHeader);
  }

  /** Takes one request from the tenant's rate budget. Throws AuthFailure("resource_exhausted"). */
  admit(tenantId: string): void {
    const decision = this.parts.limiter?.take(tenantId);
    if (decision === undefined || decision.allowed) return;
    throw new AuthFailure("resource_exhausted", `tenant ${tenantId} over its request rate`, decision.retryAfterMs);
  }

  /**
   * The token must carry the RPC's permission; then, if IAM is configured, IAM
   * must allow the action. Throws AuthFailure("permission_denied" | "unavailable").
   */
  async authorize(principal: Principal, request: AuthorizationRequest): Promise<void> {
    const { permission } = request.rule;
    if (!principal.permissions.has(permission)) {
      // Naming the missing permission tells the caller nothing about any resource.
      throw new AuthFailure("permission_denied", `token lacks ${permission}`, undefined, `permission denied: requires ${permission}`);
    }
    if (this.parts.iam === undefined) return;
    const decision = await this.parts.iam.check(
      {
        action: iamActionFor(request.methodName),
        account_id: request.accountId,
        company_id: principal.tenantId,
        user_id: principal.subject,
      },
      request.bearerToken,
    );
    if (!decision.reachable) {
      this.parts.logger.warn(
        { iamProblem: decision.problem, allowedByFailureMode: decision.allowed, tenant: principal.tenantId, method: request.methodName },
        decision.allowed ? "IAM unreachable: allowing on a valid token (IAM_FAILURE_MODE=allow)" : "IAM unreachable: refusing (IAM_FAILURE_MODE=deny)",
      );
      if (!decision.allowed) throw new AuthFailure("unavailable", `IAM unreachable: ${decision.problem}`);
      return;
    }
    if (!decision.allowed) throw new AuthFailure("permission_denied", "IAM refused the action");
  }
}

/** Builds the access control the configuration asks for, and says loudly what is switched off. */
export function createAccessControl(config: Config, logger: Logger): AccessControl {
  const limiter =
    config.rateLimitPerSecond > 0
      ? new TenantRateLimiter({ ratePerSecond: config.rateLimitPerSecond, burst: config.rateLimitBurst })
      : undefined;
  if (limiter === undefined) logger.warn("RATE_LIMIT_PER_SECOND=0: per-tenant request rate limits are off");
  if (config.authMode === "none") {
    logger.warn(
      { database: config.embedded ? "embedded" : "postgres" },
      "AUTH_MODE=none: no bearer tokens are checked; the tenant comes from the x-tenant-id header. Trusted networks only.",
    );
    return new AccessControl("none", { limiter, logger });
  }
  const verifier = new JwtVerifier({
    secret: config.authJwtSecret,
    jwksUrl: config.authJwksUrl,
    issuer: config.authJwtIssuer,
    audience: config.authJwtAudience,
    clockToleranceSeconds: config.authClockToleranceSeconds,
    jwksCacheSeconds: config.authJwksCacheSeconds,
    jwksCooldownSeconds: config.authJwksCooldownSeconds,
    onJwksFetchError: (error) => logger.warn({ err: error, jwksUrl: config.authJwksUrl }, "JWKS refetch failed: verifying with the keys fetched before"),
  });
  if (config.authJwtIssuer === undefined || config.authJwtAudience.length === 0) {
    logger.warn(
      { issuerChecked: config.authJwtIssuer !== undefined, audienceChecked: config.authJwtAudience.length > 0 },
      "bearer tokens are accepted from any issuer or for any audience: set AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE",
    );
  }
  const iam =
    config.iamUrl === undefined
      ? undefined
      : new IamClient({
          url: config.iamUrl,
          timeoutMs: config.iamTimeoutMs,
          cacheSeconds: config.iamCacheSeconds,
          failureMode: config.iamFailureMode,
        });
  return new AccessControl("jwt", { verifier, limiter, iam, logger });
}
