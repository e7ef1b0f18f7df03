/**
 * Work that follows newly stored inbound messages inside the same
 * transaction as the messages themselves (a ReactionScope bound to it): a
 * contact who writes an opt-out keyword is opted out, a one-time code typed
 * back in the chat is verified; and work that follows a management update
 * recorded for the first time: a template's status moves, a contact's
 * marketing preference is recorded. The inbound use case runs them in order
 * after the messages' own events, so their changes and events commit (or
 * roll back) with the messages — a crash cannot leave a message stored and
 * its reaction lost, and a redelivery (a duplicate wamid) never reacts twice.
 */
import { keywordMatcher, mayBeKeyword, type KeywordIntent } from "../domain/conversations/keywords.js";
import { effectiveSettings } from "../domain/conversations/settings.js";
import { marketingPreferencesOf } from "../domain/conversations/user-preferences.js";
import type { ManagementChange } from "../domain/inbound.js";
import { parseTemplateCategory, statusForProviderEvent, type ProviderView } from "../domain/templates/index.js";
import type { Provider } from "../domain/account.js";
import type { StoredInboundMessage } from "../ports/inbound-store.js";
import type { ReactionScope } from "../ports/reaction-scope.js";
import { verifyTypedCode } from "./otp/verify-typed-code.js";

export interface ReactionDeps {
  newId: () => string;
  now: () => Date;
}

/** Reacts to messages of ONE tenant (all `messages` share `scope.tenantId`). */
export type InboundReaction = (scope: ReactionScope, messages: readonly StoredInboundMessage[], deps: ReactionDeps) => Promise<void>;

/**
 * Reacts to a management update (template status, account update…) the
 * tenant recorded for the first time. `accountId` is the tenant's account
 * the update names, when it names one.
 */
export type ProviderUpdateReaction = (scope: ReactionScope, update: ManagementChange, accountId: string | undefined, deps: ReactionDeps) => Promise<void>;

/** Everything that reacts to what inbound processing stores (the composition root picks them). */
export interface InboundReactions {
  messages: readonly InboundReaction[];
  providerUpdates: readonly ProviderUpdateReaction[];
}

export const NO_REACTIONS: InboundReactions = { messages: [], providerUpdates: [] };

/**
 * A one-time code typed back in the chat (see otp/verify-typed-code.ts)
 * verifies the OTP: marked verified (via `chat`), one otp.verified event
 * after the message's own events. A redelivered message is not stored
 * again, so it never verifies twice; neither does a second message with the
 * same code (the OTP is used by then).
 */
export function otpTypedBackReaction(options: { codeKey: Buffer }): InboundReaction {
  return async (scope, stored, deps) => {
    const otps = scope.otps();
    const verifyDeps = { codeKey: options.codeKey, newId: deps.newId, now: deps.now };
    for (const { account, contact, messageId, message } of stored) {
      // Codes go to phone numbers only: a contact without one has none to type back.
      if (message.type !== "text" || contact.waId === "") continue;
      await verifyTypedCode(otps, verifyDeps, { tenantId: scope.tenantId, accountId: account.id, waId: contact.waId, messageId, text: message.text });
    }
  };
}

/**
 * Opt-out and opt-in, in the transaction that stores the inbound messages
 * (a ReactionScope):
 *
 * - a text (or template quick-reply button) whose whole body is one of the
 *   tenant's opt-out keywords (tenant_settings, else the service's list in
 *   domain/conversations/keywords.ts) sets contacts.opted_out; an opt-in
 *   keyword clears it. Matching is trimmed, case- and accent-insensitive,
 *   surrounding punctuation ignored. Several keywords from one contact in
 *   one batch: the latest (by the provider's timestamp) wins.
 * - Meta's `user_preferences` update ("stop" / "resume" marketing messages)
 *   sets or clears it the same way.
 *
 * The settings are read only when a message could be a keyword (a short
 * text), so ordinary traffic costs no extra query.
 */
const KEYWORD_TYPES: ReadonlySet<string> = new Set(["text", "button"]);

export const optOutKeywordReaction: InboundReaction = async (scope, stored) => {
  const candidates = stored.filter((s) => KEYWORD_TYPES.has(s.message.type) && mayBeKeyword(s.message.text));
  if (candidates.length === 0) return;
  // The inactivity timeout does not matter here; any default will do.
  const settings = effectiveSettings(await scope.conversationSettings(), 0);
  const match = keywordMatcher(settings);
  const latest = new Map<string, { at: number; intent: KeywordIntent }>();
  for (const s of candidates) {
    const intent = match(s.message.text);
    if (!intent) continue;
    const at = s.message.timestamp.getTime();
    const seen = latest.get(s.contact.id);
    if (!seen || at >= seen.at) latest.set(s.contact.id, { at, intent });
  }
  await scope.setOptedOut(
    [...latest].filter(([, v]) => v.intent === "opt_out").map(([id]) => id),
    true,
  );
  await scope.setOptedOut(
    [...latest].filter(([, v]) => v.intent === "opt_in").map(([id]) => id),
    false,
  );
};

export const userPreferencesReaction: ProviderUpdateReaction = async (scope, update) => {
  const preferences = marketingPreferencesOf(update.field, update.raw);
  if (preferences.length === 0) return;
  const latest = new Map<string, boolean>();
  for (const p of [...preferences].sort((a, b) => (a.time?.getTime() ?? 0) - (b.time?.getTime() ?? 0))) latest.set(p.waId, p.optedOut);
  for (const optedOut of [true, false]) {
    const waIds = [...latest].filter(([, v]) => v === optedOut).map(([waId]) => waId);
    if (waIds.length === 0) continue;
    await scope.setOptedOutByWaId(waIds, optedOut);
  }
};

/**
 * Template webhooks applied to the tenant's `templates` rows in the same
 * transaction that records them:
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
export const templateStatusReaction: ProviderUpdateReaction = async (scope, update, accountId) => {
  const target = readUpdate(update);
  if (!target) return;
  await scope.applyTemplateUpdate({ provider: update.provider as Provider, wabaId: update.wabaId, accountId, ...target });
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
