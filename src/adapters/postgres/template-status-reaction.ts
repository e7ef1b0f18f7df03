/**
 * Template webhooks applied to the tenant's `templates` rows in the same
 * transaction that records them (see inbound-reactions.ts):
 *
 * - `message_template_status_update`: the review status (APPROVED,
 *   REJECTED with its reason, PAUSED, DISABLED…) and, on approval, the
 *   approved version sends must match; a status change writes one
 *   `template.status` event. Events that do not change the status
 *   (FLAGGED, LOCKED…) change nothing.
 * - `message_template_quality_update`: the quality score.
 * - `template_category_update`: the category Meta moved it to.
 *
 * A template not known here is left to the next sync.
 */
import type { Provider } from "../../domain/account.js";
import type { ManagementChange } from "../../domain/inbound.js";
import { parseTemplateCategory, statusForProviderEvent, type ProviderView } from "../../domain/templates/index.js";
import type { ProviderUpdateReaction } from "./inbound-reactions.js";
import { applyProviderChange, findForProviderUpdate, ownerKeysFor } from "./template-store.js";

export const templateStatusReaction: ProviderUpdateReaction = async (context, update, accountId) => {
  const target = readUpdate(update);
  if (!target) return;
  const { owners } = await ownerKeysFor(context.tx, context.tenantId, update.provider as Provider, update.wabaId, accountId);
  const row = await findForProviderUpdate(context.tx, owners, target.templateId, target.name, target.language);
  if (!row) return;
  await applyProviderChange(context.tx, {
    tenantId: context.tenantId,
    row,
    accountId: row.accountId,
    wabaId: update.wabaId === "sandbox" ? "" : update.wabaId,
    view: target.view,
    providerEvent: target.event,
    ...(target.templateId !== "" ? { metaTemplateId: target.templateId } : {}),
    now: context.now(),
    newId: context.newId,
    emit: (events) => context.emit(events),
  });
};

interface Target {
  templateId: string;
  name: string;
  language: string;
  event: string;
  view: ProviderView;
}

function readUpdate(update: ManagementChange): Target | undefined {
  if (update.details.kind === "template_status") {
    const t = update.details.template;
    const reason = t.rejection ? [t.rejection.reason, t.rejection.recommendation].filter(Boolean).join(": ") : t.reason && t.reason !== "NONE" ? t.reason : "";
    const status = statusForProviderEvent(t.event);
    const category = t.category ? parseTemplateCategory(t.category) : undefined;
    return {
      templateId: t.templateId,
      name: t.name,
      language: t.language,
      event: t.event,
      view: { status, ...(status && status !== "APPROVED" ? { rejectedReason: reason || (t.other ? t.other.title : "") } : {}), ...(category ? { category } : {}) },
    };
  }
  const raw = record(update.raw);
  if (!raw) return undefined;
  const base = { templateId: text(raw.message_template_id), name: text(raw.message_template_name), language: text(raw.message_template_language) };
  if (update.field === "message_template_quality_update") {
    const quality = text(raw.new_quality_score);
    return quality === "" ? undefined : { ...base, event: "QUALITY_UPDATE", view: { status: undefined, qualityScore: quality } };
  }
  if (update.field === "template_category_update") {
    const category = parseTemplateCategory(text(raw.new_category));
    return category ? { ...base, event: "CATEGORY_UPDATE", view: { status: undefined, category } } : undefined;
  }
  return undefined;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function text(value: unknown): string {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : "";
}
