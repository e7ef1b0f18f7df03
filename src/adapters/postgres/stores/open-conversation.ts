import { eq, sql } from "drizzle-orm";

import type { ConversationSnapshot, ConversationSource } from "../../../domain/inbound-events.js";
import type { Database } from "../db/database.js";
import { conversationFromRow } from "./inbound-rows.js";
import { conversationReturned, conversationRowFromReturned, type ConversationReturned } from "../db/returned-rows.js";
import { hot, preparedRows } from "../db/prepared-query.js";
import { conversations } from "../schema/tenant.js";

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
 * winner. Finding and opening are one prepared statement (one round trip).
 *
 * With `details`, an open conversation found is given them too (the start
 * joins it): context replaced when given, refs and metadata merged.
 */
export async function findOrOpenConversation(
  tx: Database,
  input: { accountId: string; contactId: string; at: Date; source: ConversationSource; newId: () => string; details?: OpeningDetails },
): Promise<{ conversation: ConversationSnapshot; opened: boolean }> {
  const { accountId, contactId, at, details } = input;
  const open = async () => {
    const [row] = await preparedRows<ConversationReturned>(
      tx,
      hot`select ${CONVERSATION_RETURNED} from conversations
           where account_id = ${accountId}::uuid and contact_id = ${contactId}::uuid and status <> 'closed'
           limit 1
             for update`,
    );
    return row && conversationRowFromReturned(row);
  };
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
  // Found (locked) or opened in ONE statement, one round trip. Without details
  // the new row gets the columns' defaults (no context, empty refs and metadata).
  const iso = at.toISOString();
  const [first] = await preparedRows<ConversationReturned & { opened: boolean }>(
    tx,
    hot`with found as (
          select * from conversations
           where account_id = ${accountId}::uuid and contact_id = ${contactId}::uuid and status <> 'closed'
           limit 1
             for update),
        inserted as (
          insert into conversations (id, account_id, contact_id, status, source, create_time, update_time, context, external_refs, metadata)
          select ${input.newId()}::uuid, ${accountId}::uuid, ${contactId}::uuid, 'active', ${input.source}::text, ${iso}::timestamptz, ${iso}::timestamptz,
                 ${details && details.context !== "" ? details.context : null}::text,
                 ${JSON.stringify(details?.externalRefs ?? {})}::text::jsonb, ${JSON.stringify(details?.metadata ?? {})}::text::jsonb
           where not exists (select 1 from found)
          on conflict (account_id, contact_id) where status <> 'closed' do nothing
          returning *)
        select false as opened, ${CONVERSATION_RETURNED} from found
        union all
        select true as opened, ${CONVERSATION_RETURNED} from inserted`,
  );
  if (first?.opened) return { conversation: conversationFromRow(conversationRowFromReturned(first)), opened: true };
  if (first) return joined(conversationRowFromReturned(first));
  // A concurrent transaction opened it first: our insert was a no-op once it committed; read the winner.
  const winner = await open();
  if (!winner) throw new Error(`no open conversation for contact ${contactId} after a conflicting insert`);
  return joined(winner);
}

const CONVERSATION_RETURNED = conversationReturned();
