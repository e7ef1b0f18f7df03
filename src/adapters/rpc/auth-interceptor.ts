import { create, type DescMessage, type Message } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, createContextKey, type ConnectError, type Interceptor, type StreamRequest, type UnaryRequest } from "@connectrpc/connect";
import type { AccessControl } from "../auth/access-control.js";
import { accessRuleFor } from "../auth/permissions.js";
import { AuthFailure, type AuthFailureKind, type Principal } from "../auth/principal.js";
import type { Logger } from "../../observability/logger.js";
import { RetryInfoSchema } from "../../../gen/google/rpc/error_details_pb.js";
import { connectError } from "./errors.js";
import { createHeaderTenantInterceptor, tenantKey } from "./tenant-context.js";

/** The verified caller of an RPC (AUTH_MODE=jwt), for audit lines; undefined in AUTH_MODE=none. */
export const principalKey = createContextKey<Principal | undefined>(undefined, { description: "authenticated caller" });

const CODE_OF_FAILURE: Record<AuthFailureKind, { code: Code; reason: string }> = {
  unauthenticated: { code: Code.Unauthenticated, reason: "UNAUTHENTICATED" },
  permission_denied: { code: Code.PermissionDenied, reason: "PERMISSION_DENIED" },
  resource_exhausted: { code: Code.ResourceExhausted, reason: "RATE_LIMITED" },
  unavailable: { code: Code.Unavailable, reason: "AUTH_UNAVAILABLE" },
};

/**
 * The interceptors that decide who may call what, in the order they must run.
 * `jwt`: one interceptor — token, tenant, rate, permission, IAM.
 * `none`: the tenant from the `x-tenant-id` header, then the tenant's rate.
 * Either way handlers read the tenant with `tenantOf(ctx)`.
 */
export function createAccessInterceptors(access: AccessControl, logger: Logger): Interceptor[] {
  if (access.mode === "none") return [createHeaderTenantInterceptor(), createTenantRateLimitInterceptor(access, logger)];
  return [createAuthInterceptor(access, logger)];
}

/**
 * AUTH_MODE=jwt. Every check happens before the request reaches validation or
 * a handler, so a refused caller learns nothing about any resource. The tenant
 * comes only from the verified token; an `x-tenant-id` header is ignored.
 */
export function createAuthInterceptor(access: AccessControl, logger: Logger): Interceptor {
  return (next) => async (req) => {
    const rule = accessRuleFor(req.service.typeName, req.method.name);
    if (rule?.kind === "public") return next(req);
    const rpc = `${req.service.typeName}/${req.method.name}`;
    try {
      const authorization = req.header.get("authorization");
      const principal = await access.authenticate(authorization);
      req.contextValues.set(tenantKey, principal.tenantId);
      req.contextValues.set(principalKey, principal);
      access.admit(principal.tenantId);
      if (rule === undefined) {
        // A method missing from the access table is a bug; refuse rather than guess.
        logger.error({ rpc }, "RPC missing from the access table: refused");
        throw new AuthFailure("permission_denied", "RPC missing from the access table");
      }
      const { accountId, request } = await peekAccountId(req);
      await access.authorize(principal, {
        methodName: req.method.name,
        rule,
        accountId,
        bearerToken: bearerTokenOf(authorization),
      });
      return await next(request);
    } catch (error) {
      if (!(error instanceof AuthFailure)) throw error;
      logger.info({ rpc, tenant: req.contextValues.get(tenantKey), refusal: error.kind, reason: error.reason }, "call refused by access control");
      throw toConnectError(error);
    }
  };
}

/** AUTH_MODE=none: the per-tenant rate limit still applies, after the header named the tenant. */
export function createTenantRateLimitInterceptor(access: AccessControl, logger: Logger): Interceptor {
  return (next) => (req) => {
    const tenant = req.contextValues.get(tenantKey);
    if (tenant !== undefined) {
      try {
        access.admit(tenant);
      } catch (error) {
        if (!(error instanceof AuthFailure)) throw error;
        logger.info({ rpc: `${req.service.typeName}/${req.method.name}`, tenant, refusal: error.kind }, "call refused by access control");
        throw toConnectError(error);
      }
    }
    return next(req);
  };
}

function toConnectError(failure: AuthFailure): ConnectError {
  const { code, reason } = CODE_OF_FAILURE[failure.kind];
  const error = connectError(code, reason, failure.message);
  if (failure.retryAfterMs !== undefined) {
    error.details.push({ desc: RetryInfoSchema, value: create(RetryInfoSchema, { retryDelay: durationFromMs(failure.retryAfterMs) }) });
    // HTTP callers (and proxies) understand Retry-After in whole seconds.
    error.metadata.set("retry-after", String(Math.max(1, Math.ceil(failure.retryAfterMs / 1000))));
  }
  return error;
}

function bearerTokenOf(authorization: string | null): string | undefined {
  return /^Bearer[ \t]+(\S+)/i.exec(authorization ?? "")?.[1];
}

/**
 * The account a request names: its `account_id`, or the `id` of the Account
 * it carries (UpdateAccount), or the `account_id` of the resource it carries
 * (CreateTemplate). Used for IAM questions and audit lines; ids only, never
 * anything else from the body.
 */
export function accountIdOf(schema: DescMessage, message: Message): string | undefined {
  const fields = message as unknown as Record<string, unknown>;
  const direct = schema.fields.find((f) => f.name === "account_id" && f.fieldKind === "scalar");
  if (direct !== undefined) return nonEmpty(fields[direct.localName]);
  for (const field of schema.fields) {
    if (field.fieldKind !== "message") continue;
    const nested = fields[field.localName] as Record<string, unknown> | undefined;
    if (nested === undefined) continue;
    if (field.message.typeName === "whatsapp.v1.Account") return nonEmpty(nested.id);
    const inner = field.message.fields.find((f) => f.name === "account_id" && f.fieldKind === "scalar");
    if (inner !== undefined) return nonEmpty(nested[inner.localName]);
  }
  return undefined;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * For a unary call the message is at hand. For a server stream (WatchEvents)
 * the single request message is read here and handed on unchanged, so IAM can
 * be asked about the account the stream is for.
 */
async function peekAccountId<R extends UnaryRequest | StreamRequest>(req: R): Promise<{ accountId: string | undefined; request: R }> {
  if (!req.stream) return { accountId: accountIdOf(req.method.input, req.message), request: req };
  const iterator = req.message[Symbol.asyncIterator]();
  const first = await iterator.next();
  async function* replay() {
    if (first.done === true) return;
    yield first.value;
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield next.value;
  }
  return {
    accountId: first.done === true ? undefined : accountIdOf(req.method.input, first.value),
    request: { ...req, message: replay() },
  };
}
