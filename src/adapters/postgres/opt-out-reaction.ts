/**
 * Opt-out and opt-in, in the transaction that stores the inbound messages
 * (see inbound-reactions.ts):
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
import { inArray, sql } from "drizzle-orm";

import { keywordMatcher, mayBeKeyword, type KeywordIntent } from "../../domain/conversations/keywords.js";
import { effectiveSettings } from "../../domain/conversations/settings.js";
import { marketingPreferencesOf } from "../../domain/conversations/user-preferences.js";
import { readConversationSettings } from "./conversation-store.js";
import type { Database } from "./database.js";
import type { InboundReaction, ProviderUpdateReaction } from "./inbound-reactions.js";
import { contacts } from "./schema/tenant.js";

const KEYWORD_TYPES: ReadonlySet<string> = new Set(["text", "button"]);

export const optOutKeywordReaction: InboundReaction = async (context, stored) => {
  const candidates = stored.filter((s) => KEYWORD_TYPES.has(s.message.type) && mayBeKeyword(s.message.text));
  if (candidates.length === 0) return;
  // The inactivity timeout does not matter here; any default will do.
  const settings = effectiveSettings(await readConversationSettings(context.tx), 0);
  const match = keywordMatcher(settings);
  const latest = new Map<string, { at: number; intent: KeywordIntent }>();
  for (const s of candidates) {
    const intent = match(s.message.text);
    if (!intent) continue;
    const at = s.message.timestamp.getTime();
    const seen = latest.get(s.contact.id);
    if (!seen || at >= seen.at) latest.set(s.contact.id, { at, intent });
  }
  await setOptedOut(
    context.tx,
    [...latest].filter(([, v]) => v.intent === "opt_out").map(([id]) => id),
    true,
  );
  await setOptedOut(
    context.tx,
    [...latest].filter(([, v]) => v.intent === "opt_in").map(([id]) => id),
    false,
  );
};

export const userPreferencesReaction: ProviderUpdateReaction = async (context, update) => {
  const preferences = marketingPreferencesOf(update.field, update.raw);
  if (preferences.length === 0) return;
  const latest = new Map<string, boolean>();
  for (const p of [...preferences].sort((a, b) => (a.time?.getTime() ?? 0) - (b.time?.getTime() ?? 0))) latest.set(p.waId, p.optedOut);
  for (const optedOut of [true, false]) {
    const waIds = [...latest].filter(([, v]) => v === optedOut).map(([waId]) => waId);
    if (waIds.length === 0) continue;
    await context.tx
      .update(contacts)
      .set({ optedOut, updateTime: sql`now()` })
      .where(sql`${inArray(contacts.waId, waIds)} and ${contacts.optedOut} <> ${optedOut}`);
  }
};

async function setOptedOut(tx: Database, contactIds: readonly string[], optedOut: boolean): Promise<void> {
  if (contactIds.length === 0) return;
  await tx
    .update(contacts)
    .set({ optedOut, updateTime: sql`now()` })
    .where(sql`${inArray(contacts.id, [...contactIds])} and ${contacts.optedOut} <> ${optedOut}`);
}
