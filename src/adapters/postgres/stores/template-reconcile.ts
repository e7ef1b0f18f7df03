/**
 * What the provider says about a template (status webhook or sync), applied
 * to the tenant's rows: status, category, reason, quality, approved
 * version, a new version for content edited at the provider, and one
 * `template.status` event per status change, in the same transaction.
 */
import { and, eq, inArray, isNotNull, isNull, or } from "drizzle-orm";

import type { Provider } from "../../../domain/account.js";
import type { DomainEvent } from "../../../domain/events.js";
import { applyProviderView, templateOwnerKey, type ProviderView } from "../../../domain/templates/index.js";
import type { Database } from "../db/database.js";
import { appendEvents } from "../outbox/outbox.js";
import { accounts } from "../schema/control.js";
import { templates, templateVersions } from "../schema/tenant.js";
import { db, stored, templateFromRow, type StoredContent, type TemplateRow } from "./template-rows.js";

export interface ProviderChangeInput {
  tenantId: string;
  row: TemplateRow;
  accountId: string;
  /** The account's real WABA id, for the event ("" when none). */
  wabaId: string;
  view: ProviderView;
  providerEvent: string;
  /** Learned from the provider when the row did not know it yet. */
  metaTemplateId?: string;
  now: Date;
  newId: () => string;
  /** Where events go; default: appended to the outbox in `tx`. */
  emit?: (events: DomainEvent[]) => Promise<void>;
}

/**
 * Applies what the provider says about one template (status webhook or
 * sync) inside `tx`: status, category, reason, quality, approved version,
 * a new version for content edited at the provider; a status change writes
 * one `template.status` event. The row must be locked or freshly read in `tx`.
 */
export async function applyProviderChange(tx: Database, input: ProviderChangeInput): Promise<{ changed: boolean; event: boolean }> {
  const current = templateFromRow(input.row);
  const change = applyProviderView(current, input.view);
  const learnsId = input.metaTemplateId !== undefined && input.metaTemplateId !== current.metaTemplateId;
  if (!change.changed && !learnsId) return { changed: false, event: false };
  const approved: StoredContent | null = change.approved
    ? { parameterFormat: change.approved.parameterFormat, category: change.approved.category, ...change.approved.components }
    : null;
  await tx
    .update(templates)
    .set({
      status: db(change.status),
      category: change.category,
      rejectedReason: change.rejectedReason || null,
      qualityScore: change.qualityScore || null,
      version: change.version,
      approvedVersion: change.approvedVersion || null,
      approvedComponents: approved,
      updateTime: input.now,
      ...(learnsId ? { metaTemplateId: input.metaTemplateId } : {}),
      ...(change.newContent
        ? { components: stored({ parameterFormat: change.newContent.parameterFormat, components: change.newContent.components }), messageSendTtlSeconds: change.newContent.messageSendTtlSeconds || null }
        : {}),
      ...(change.statusChanged ? { statusUpdateTime: input.now } : {}),
    })
    .where(eq(templates.id, current.id));
  if (change.newContent) {
    await tx.insert(templateVersions).values({
      templateId: current.id,
      version: change.version,
      category: change.category,
      components: stored({ parameterFormat: change.newContent.parameterFormat, components: change.newContent.components }),
      status: change.status,
      rejectedReason: change.rejectedReason || null,
      createTime: input.now,
    });
  } else if (change.statusChanged) {
    await tx
      .update(templateVersions)
      .set({ status: change.status, rejectedReason: change.rejectedReason || null })
      .where(and(eq(templateVersions.templateId, current.id), eq(templateVersions.version, change.version)));
  }
  // DRAFT → PENDING is the submission itself (a sync that saw it before the create recorded it): not news, as on create.
  if (!change.statusChanged || (current.status === "DRAFT" && change.status === "PENDING")) return { changed: change.changed || learnsId, event: false };
  const event: DomainEvent = {
    kind: "template.status",
    eventId: input.newId(),
    tenantId: input.tenantId,
    accountId: input.accountId,
    occurredAt: input.now,
    wabaId: input.wabaId,
    templateId: current.id,
    metaTemplateId: learnsId ? input.metaTemplateId! : current.metaTemplateId,
    name: current.name,
    language: current.language,
    category: change.category,
    status: change.status,
    previousStatus: current.status,
    reason: change.rejectedReason,
    providerEvent: input.providerEvent,
    version: change.version,
  };
  if (input.emit) await input.emit([event]);
  else await appendEvents(tx, [event]);
  return { changed: true, event: true };
}

/** The live template row of a WABA (owner key) by provider id, else by name and language. */
export async function findForProviderUpdate(
  tx: Database,
  owners: readonly string[],
  providerId: string,
  name: string,
  language: string,
): Promise<TemplateRow | undefined> {
  if (owners.length === 0) return undefined;
  const live = and(inArray(templates.wabaId, [...owners]), isNull(templates.deleteTime));
  if (providerId !== "") {
    const [byId] = await tx.select().from(templates).where(and(live, eq(templates.metaTemplateId, providerId))).for("update");
    if (byId) return byId;
  }
  const languages = [...new Set([language, language.replace("-", "_"), language.replace("_", "-")])];
  const [byName] = await tx
    .select()
    .from(templates)
    .where(and(live, eq(templates.name, name), inArray(templates.language, languages), or(isNull(templates.metaTemplateId), eq(templates.metaTemplateId, providerId))))
    .for("update");
  return byName;
}

/** The template owner keys of the tenant's live accounts of a WABA (or the one account named). */
export async function ownerKeysFor(tx: Database, tenantId: string, provider: Provider, wabaId: string, accountId: string | undefined): Promise<{ owners: string[]; accountIds: Map<string, string> }> {
  const rows = await tx
    .select({ id: accounts.id, wabaId: accounts.wabaId })
    .from(accounts)
    .where(
      and(
        eq(accounts.tenantId, tenantId),
        eq(accounts.provider, provider),
        isNull(accounts.deleteTime),
        accountId !== undefined ? eq(accounts.id, accountId) : and(isNotNull(accounts.wabaId), eq(accounts.wabaId, wabaId)),
      ),
    );
  const accountIds = new Map<string, string>();
  for (const row of rows) accountIds.set(templateOwnerKey(row), row.id);
  return { owners: [...accountIds.keys()], accountIds };
}

