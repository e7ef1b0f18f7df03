/**
 * The reaction scope (ports/reaction-scope.ts) on the transaction that
 * stores the inbound messages or update: its search_path points at the
 * tenant's schema, and its events go after those already appended (through
 * `emit`, the inbound store's batch or the outbox directly).
 */
import { inArray, sql } from "drizzle-orm";

import type { StoredConversationSettings } from "../../../domain/conversations/settings.js";
import type { DomainEvent } from "../../../domain/events.js";
import type { OtpTransaction } from "../../../ports/otp-store.js";
import type { ReactionScope, TemplateUpdateTarget } from "../../../ports/reaction-scope.js";
import { readConversationSettings } from "./conversation-store.js";
import type { Database } from "../db/database.js";
import { PostgresOtpTransaction } from "./otp-store.js";
import { contacts } from "../schema/tenant.js";
import { applyProviderChange, findForProviderUpdate, ownerKeysFor } from "./template-reconcile.js";

export class PostgresReactionScope implements ReactionScope {
  readonly tenantId: string;
  readonly #tx: Database;
  readonly #deps: { newId: () => string; now: () => Date };
  readonly #emit: (events: readonly DomainEvent[]) => Promise<void>;

  constructor(tx: Database, tenantId: string, deps: { newId: () => string; now: () => Date }, emit: (events: readonly DomainEvent[]) => Promise<void>) {
    this.#tx = tx;
    this.tenantId = tenantId;
    this.#deps = deps;
    this.#emit = emit;
  }

  conversationSettings(): Promise<StoredConversationSettings> {
    return readConversationSettings(this.#tx);
  }

  async setOptedOut(contactIds: readonly string[], optedOut: boolean): Promise<void> {
    if (contactIds.length === 0) return;
    await this.#tx
      .update(contacts)
      .set({ optedOut, updateTime: sql`now()` })
      .where(sql`${inArray(contacts.id, [...contactIds])} and ${contacts.optedOut} <> ${optedOut}`);
  }

  async setOptedOutByWaId(waIds: readonly string[], optedOut: boolean): Promise<void> {
    if (waIds.length === 0) return;
    await this.#tx
      .update(contacts)
      .set({ optedOut, updateTime: sql`now()` })
      .where(sql`${inArray(contacts.waId, [...waIds])} and ${contacts.optedOut} <> ${optedOut}`);
  }

  otps(): OtpTransaction {
    return new PostgresOtpTransaction(this.#tx, this.tenantId, true, (events) => this.#emit(events));
  }

  async applyTemplateUpdate(target: TemplateUpdateTarget): Promise<void> {
    const { owners } = await ownerKeysFor(this.#tx, this.tenantId, target.provider, target.wabaId, target.accountId);
    const row = await findForProviderUpdate(this.#tx, owners, target.templateId, target.name, target.language);
    if (!row) return;
    await applyProviderChange(this.#tx, {
      tenantId: this.tenantId,
      row,
      accountId: row.accountId,
      wabaId: target.wabaId === "sandbox" ? "" : target.wabaId,
      view: target.view,
      providerEvent: target.event,
      ...(target.templateId !== "" ? { metaTemplateId: target.templateId } : {}),
      now: this.#deps.now(),
      newId: this.#deps.newId,
      emit: (events) => this.#emit(events),
    });
  }
}
