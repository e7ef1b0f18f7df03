import type { SyncCounts } from "../../ports/template-store.js";
import { accountForTemplates, providerFailure, type TemplateDeps } from "./deps.js";

/**
 * Pulls every template of the account's WABA from the provider (all pages)
 * and reconciles the local copies: new ones stored, changed status or
 * content recorded (a new version for content edited at the provider), ones
 * gone at the provider marked DELETED; each status change publishes
 * `template.status`. A provider without a catalog of its own (the sandbox)
 * has nothing to pull.
 */
export async function syncTemplates(deps: TemplateDeps, tenantId: string, accountId: string): Promise<SyncCounts & { syncTime: Date }> {
  const { ref, provider } = await accountForTemplates(deps, tenantId, accountId, "account_id");
  // What the list says is as of now: a template that changes here after this (a create, a webhook) is newer than it.
  const listedAt = deps.now();
  const listed = await deps.templateProviders.forAccount(provider).list(provider);
  if (listed === undefined) {
    const page = await deps.templates.list(tenantId, { pageSize: 1000, pageToken: "", accountId });
    return { created: 0, updated: 0, deleted: 0, unchanged: page.templates.length, syncTime: deps.now() };
  }
  if (!listed.ok) throw providerFailure(listed, "templates were not synced");
  const counts = await deps.templates.reconcile(tenantId, ref, listed.value, listedAt);
  return { ...counts, syncTime: deps.now() };
}
