import { Code, ConnectError, createContextKey, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import { validateTenantId } from "../../domain/tenant.js";
import { PUBLIC_SERVICES } from "../auth/permissions.js";

/** The tenant an RPC acts for, set by the tenant interceptor before any handler runs. */
export const tenantKey = createContextKey<string | undefined>(undefined, { description: "tenant id" });


export const TENANT_HEADER = "x-tenant-id";

/**
 * Resolves the tenant of each call in one place, so bearer-token auth can
 * replace this interceptor without touching any handler. In `AUTH_MODE=none`
 * the tenant is whatever the `x-tenant-id` header says: local use only.
 */
export function createHeaderTenantInterceptor(): Interceptor {
  return (next) => async (req) => {
    if (PUBLIC_SERVICES.has(req.service.typeName)) return next(req);
    const raw = req.header.get(TENANT_HEADER);
    if (raw === null || raw === "") {
      throw new ConnectError(`missing ${TENANT_HEADER} header (AUTH_MODE=none)`, Code.Unauthenticated);
    }
    const problem = validateTenantId(raw);
    if (problem !== undefined) throw new ConnectError(`${TENANT_HEADER}: ${problem}`, Code.InvalidArgument);
    req.contextValues.set(tenantKey, raw);
    return next(req);
  };
}

/** The calling tenant; only absent if a handler is mounted without the interceptor (a bug). */
export function tenantOf(ctx: HandlerContext): string {
  const tenant = ctx.values.get(tenantKey);
  if (tenant === undefined) throw new ConnectError("no tenant resolved for this call", Code.Internal);
  return tenant;
}
