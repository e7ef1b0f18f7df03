/**
 * How a provider's word about a template (a status webhook, or its entry in
 * a sync) changes the local copy: the status, the approved version (what
 * sends use), and — for a sync — a new version when the content was edited
 * on the provider's side.
 */
import type { ParameterFormat, Template, TemplateCategory, TemplateComponents, TemplateStatus } from "./template.js";

export interface TemplateChange {
  status: TemplateStatus;
  category: TemplateCategory;
  rejectedReason: string;
  qualityScore: string;
  /** A new version with this content (sync only). */
  newContent?: { parameterFormat: ParameterFormat; components: TemplateComponents; messageSendTtlSeconds: number };
  version: number;
  approvedVersion: number;
  approved: Template["approved"];
  statusChanged: boolean;
  changed: boolean;
}

export interface ProviderView {
  status: TemplateStatus | undefined;
  category?: TemplateCategory;
  rejectedReason?: string;
  qualityScore?: string;
  content?: { parameterFormat: ParameterFormat; components: TemplateComponents; messageSendTtlSeconds: number };
  /**
   * The view comes from the provider's template list (a sync), not from a
   * status webhook. Meta's list lags its webhooks by up to minutes: right
   * after an approval webhook the list can still say PENDING.
   */
  fromList?: boolean;
}

/**
 * Review has decided: only a new review (an edit, which changes the content)
 * sends such a template back to PENDING.
 */
const REVIEWED: ReadonlySet<TemplateStatus> = new Set<TemplateStatus>(["APPROVED", "REJECTED", "PAUSED", "DISABLED"]);

export function applyProviderView(current: Template, view: ProviderView): TemplateChange {
  const category = view.category ?? current.category;
  const contentChanged =
    view.content !== undefined &&
    category !== "AUTHENTICATION" &&
    canonicalJson({ f: view.content.parameterFormat, c: view.content.components }) !== canonicalJson({ f: current.parameterFormat, c: current.components });
  // A list still saying PENDING about content that review already decided is
  // the list lagging a webhook, not a new review: keep the decision (moving
  // back would block sends until the next sync).
  const laggingList = view.fromList === true && view.status === "PENDING" && REVIEWED.has(current.status) && !contentChanged;
  const status = laggingList ? current.status : (view.status ?? current.status);
  const version = contentChanged ? current.version + 1 : current.version;
  const content = contentChanged ? view.content! : { parameterFormat: current.parameterFormat, components: current.components };
  const approvedNow = status === "APPROVED" && (current.status !== "APPROVED" || contentChanged || current.approvedVersion !== version);
  const rejectedReason = view.rejectedReason ?? (status === current.status ? current.rejectedReason : "");
  const qualityScore = view.qualityScore || current.qualityScore;
  const change: TemplateChange = {
    status,
    category,
    rejectedReason: status === "APPROVED" ? "" : rejectedReason,
    qualityScore,
    version,
    approvedVersion: approvedNow ? version : current.approvedVersion,
    approved: approvedNow ? { parameterFormat: content.parameterFormat, components: content.components, category } : current.approved,
    statusChanged: status !== current.status,
    changed: false,
    ...(contentChanged ? { newContent: view.content } : {}),
  };
  change.changed =
    change.statusChanged ||
    contentChanged ||
    approvedNow ||
    category !== current.category ||
    change.rejectedReason !== current.rejectedReason ||
    qualityScore !== current.qualityScore;
  return change;
}

/** JSON with object keys sorted, so equal content compares equal whatever built it. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>)
            .filter(([, x]) => x !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}
