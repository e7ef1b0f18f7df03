/**
 * Seeds APPROVED templates straight into a tenant's schema, for tests that
 * send template messages without going through TemplateService (sends are
 * checked against the approved template before they are queued).
 */
import postgres from "postgres";

import { tenantSchemaName } from "../../src/adapters/postgres/index.js";
import { templateOwnerKey, type TemplateComponents } from "../../src/domain/templates/index.js";

export interface SeedTemplate {
  name: string;
  language: string;
  category?: "MARKETING" | "UTILITY" | "AUTHENTICATION";
  parameterFormat?: "POSITIONAL" | "NAMED";
  /** Default: a body without placeholders. */
  components?: Partial<TemplateComponents>;
}

const NONE = { positional: [], named: {} };

/** A body with `n` positional placeholders ("Hi {{1}}, … {{n}} thanks"). */
export function bodyWith(n: number): TemplateComponents["body"] {
  const slots = Array.from({ length: n }, (_, i) => `{{${i + 1}}}`).join(" and ");
  return { text: n === 0 ? "Hello there" : `Hi ${slots}, thanks`, examples: { positional: Array.from({ length: n }, (_, i) => `x${i + 1}`), named: {} }, addSecurityRecommendation: false };
}

/** Inserts an APPROVED template (version 1, approved) for the account's WABA; returns its id. */
export async function seedApprovedTemplate(databaseUrl: string, tenantId: string, account: { id: string; wabaId: string }, template: SeedTemplate): Promise<string> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const id = crypto.randomUUID();
    const content = {
      parameterFormat: template.parameterFormat ?? "POSITIONAL",
      body: template.components?.body ?? bodyWith(0),
      buttons: template.components?.buttons ?? [],
      ...(template.components?.header ? { header: template.components.header } : {}),
      ...(template.components?.footer ? { footer: template.components.footer } : {}),
    };
    const category = template.category ?? "UTILITY";
    const schema = tenantSchemaName(tenantId);
    await sql.unsafe(
      `insert into "${schema}".templates (id, account_id, waba_id, name, language, category, components, meta_template_id, status, version, approved_version, approved_components)
       values ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, 'APPROVED', 1, 1, $9::jsonb)`,
      [id, account.id, templateOwnerKey(account), template.name, template.language, category, JSON.stringify(content), `seed${Date.now()}`, JSON.stringify({ ...content, category })],
    );
    await sql.unsafe(`insert into "${schema}".template_versions (template_id, version, category, components, status) values ($1, 1, $2, $3::jsonb, 'APPROVED')`, [
      id,
      category,
      JSON.stringify(content),
    ]);
    return id;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export { NONE as NO_EXAMPLES };
