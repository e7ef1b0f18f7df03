import { and, eq, ne, sql } from "drizzle-orm";

import type { ConversationSnapshot, ConversationSource } from "../../domain/inbound-events.js";
import type { Database } from "./database.js";
import { conversationFromRow } from "./inbound-rows.js";
import { conversations } from "./schema/tenant.js";

/** What a business-initiated start (StartConversation) gives the conversation it opens or joins. */
export interface OpeningDetails {
  /** Replaces the context when not empty. */
  context: string;
  /** Merged into the conversation's refs (these win on a shared key). */
  externalRefs: Record<string, string>;
  /** Merged into the conversation's metadata (these win on a shared key). */
  metadata: Record<string, string>;
}

/**
 * The open conversation of (account, contact), or a new one opened with
 * `source` (and `details`). Call it inside the tenant transaction.
 *
 * The open conversation is read FOR UPDATE: a concurrent close (the
 * inactivity job, UpdateConversation) either finishes first — we then see
 * the row closed and open a new one — or waits for us, so a message is never
 * added to a conversation that closed under it. A concurrent transaction
 * that opens the same conversation first makes our insert a no-op on the
 * one-open-conversation index; we then waited for its commit and read the
 * winner.
 *
 * With `details`, an open conversation found is given them too (the start
 * joins it): context replaced when given, refs and metadata merged.
 */
export async function findOrOpenConversation(
  tx: Database,
  input: { accountId: string; contactId: string; at: Date; source: ConversationSource; newId: () => string; details?: OpeningDetails },
): Promise<{ conversation: ConversationSnapshot; opened: boolean }> {
  const { accountId, contactId, at, details } = input;
  const open = () =>
    tx
      .select()
      .from(conversations)
      .where(and(eq(conversations.accountId, accountId), eq(conversations.contactId, contactId), ne(conversations.status, "closed")))
      .limit(1)
      .for("update");
  const joined = async (row: typeof conversations.$inferSelect) => {
    if (!details) return { conversation: conversationFromRow(row), opened: false };
    const [updated] = await tx
      .update(conversations)
      .set({
        ...(details.context === "" ? {} : { context: details.context }),
        externalRefs: sql`${conversations.externalRefs} || ${JSON.stringify(details.externalRefs)}::jsonb`,
        metadata: sql`${conversations.metadata} || ${JSON.stringify(details.metadata)}::jsonb`,
        updateTime: sql`now()`,
      })
      .where(eq(conversations.id, row.id))
      .returning();
    if (!updated) throw new Error(`conversation ${row.id} vanished`);
    return { conversation: conversationFromRow(updated), opened: false };
  };
  const [existing] = await open();
  if (existing) return joined(existing);
  const [inserted] = await tx
    .insert(conversations)
    .values({
      id: input.newId(),
      accountId,
      contactId,
      status: "active",
      source: input.source,
      createTime: at,
      updateTime: at,
      ...(details ? { context: details.context === "" ? null : details.context, externalRefs: details.externalRefs, metadata: details.metadata } : {}),
    })
    .onConflictDoNothing({ target: [conversations.accountId, conversations.contactId], where: sql`status <> 'closed'` })
    .returning();
  if (inserted) return { conversation: conversationFromRow(inserted), opened: true };
  const [winner] = await open();
  if (!winner) throw new Error(`no open conversation for contact ${contactId} after a conflicting insert`);
  return joined(winner);
}
