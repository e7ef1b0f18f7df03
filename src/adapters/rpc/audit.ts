import { Code, type Interceptor } from "@connectrpc/connect";
import { accessRuleFor } from "../auth/permissions.js";
import type { Logger } from "../../observability/logger.js";
import { accountIdOf, principalKey } from "./auth-interceptor.js";
import { toConnectError } from "./errors.js";
import { tenantKey } from "./tenant-context.js";

/**
 * One audit line for every call that changes state — who (`actor`, the
 * token's `sub`), for which tenant, which RPC, on which account, and the
 * result code — including calls refused by access control, which are the
 * interesting ones. Only ids: never a message body, credential or token.
 *
 * Runs outside the access interceptors, so it sees their refusals, and reads
 * the tenant and principal they set after the call has run.
 */
export function createAuditInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const rule = accessRuleFor(req.service.typeName, req.method.name);
    // Unknown RPCs are audited too: fail towards a line too many.
    if (rule?.kind === "public" || (rule?.kind === "tenant" && !rule.mutates)) return next(req);
    const line = (code: string) => {
      const principal = req.contextValues.get(principalKey);
      logger.info(
        {
          audit: true,
          actor: principal?.subject ?? null,
          tokenId: principal?.tokenId,
          tenant: req.contextValues.get(tenantKey) ?? null,
          rpc: `${req.service.typeName}/${req.method.name}`,
          accountId: req.stream ? undefined : accountIdOf(req.method.input, req.message),
          code,
        },
        "audit",
      );
    };
    try {
      const response = await next(req);
      line("OK");
      return response;
    } catch (error) {
      line(Code[toConnectError(error).code]);
      throw error;
    }
  };
}
