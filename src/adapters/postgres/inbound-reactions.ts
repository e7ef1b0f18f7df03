/**
 * Work that follows newly stored inbound messages inside the same
 * transaction as the messages themselves: a contact who writes an opt-out
 * keyword is opted out, a one-time code typed back in the chat is verified.
 * Each reaction is its own module; the inbox worker runs them in order after
 * the messages' own events (and management-update reactions after the
 * update is recorded), so their changes and events commit (or roll
 * back) with the messages — a crash cannot leave a message stored and its
 * reaction lost, and a redelivery (a duplicate wamid) never reacts twice.
 */
import type { ManagementChange } from "../../domain/inbound.js";
import type { StoredInboundMessage } from "../../ports/inbound-store.js";
import type { Database } from "./database.js";
import type { DomainEvent } from "../../domain/events.js";

export interface InboundReactionContext {
  /** The delivery's transaction; its search_path points at `tenantId`'s schema. */
  tx: Database;
  tenantId: string;
  newId: () => string;
  now: () => Date;
  /** Appends events to the outbox after those already written in this transaction. */
  emit(events: readonly DomainEvent[]): Promise<void>;
}

/** Reacts to messages of ONE tenant (all `messages` share `context.tenantId`). */
export type InboundReaction = (context: InboundReactionContext, messages: readonly StoredInboundMessage[]) => Promise<void>;

/**
 * Reacts to a management update (template status, account update…) the
 * tenant recorded for the first time (a repeated delivery does not react).
 * `accountId` is the tenant's account the update names, when it names one.
 */
export type ProviderUpdateReaction = (context: InboundReactionContext, update: ManagementChange, accountId: string | undefined) => Promise<void>;

/** Everything that reacts to what inbound processing stores. */
export interface InboundReactions {
  messages: readonly InboundReaction[];
  providerUpdates: readonly ProviderUpdateReaction[];
}
