/**
 * Tenant ids come from callers (a header today, a verified token claim later)
 * and name a database schema and a NATS subject token
 * (`whatsapp.{tenant_id}.…`), so they are held to a strict shape: no `.`
 * (a subject separator), no `*`/`>` (wildcards), no spaces.
 */
export const TENANT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

/** Returns why `tenantId` is not acceptable, or undefined when it is. */
export function validateTenantId(tenantId: string): string | undefined {
  if (!TENANT_ID_PATTERN.test(tenantId)) {
    return "tenant id must be 1-63 characters: letters, digits, '_', '-', starting with a letter or digit";
  }
  return undefined;
}
