import { and, eq, ne, sql } from "drizzle-orm";

import type { ConversationSnapshot } from "../../domain/inbound-events.js";
import type { Database } from "./database.js";
import { conversationFromRow } from "./inbound-rows.js";
import { conversations } from "./schema/tenant.js";

/**
 * The active conversation of (account, contact), or a new one opened with
 * `source`. Call it inside the tenant transaction. A concurrent transaction
 * (an inbound message or a send) that opens the same conversation first makes
 * our insert a no-op on the one-open-conversation index; we then waited for
 * its commit and read the winner.
 */
export async function findOrOpenConversation(
  tx: Database,
  input: { accountId: string; contactId: string; at: Date; source: "inbound" | "manual"; newId: () => string },
): Promise<{ conversation: ConversationSnapshot; opened: boolean }> {
  const { accountId, contactId, at } = input;
  const open = () =>
    tx
      .select()
      .from(conversations)
      .where(and(eq(conversations.accountId, accountId), eq(conversations.contactId, contactId), ne(conversations.status, "closed")))
      .limit(1);
  const [existing] = await open();
  if (existing) return { conversation: conversationFromRow(existing), opened: false };
  const [inserted] = await tx
    .insert(conversations)
    .values({ id: input.newId(), accountId, contactId, status: "active", source: input.source, createTime: at, updateTime: at })
    .onConflictDoNothing({ target: [conversations.accountId, conversations.contactId], where: sql`status <> 'closed'` })
    .returning();
  if (inserted) return { conversation: conversationFromRow(inserted), opened: true };
  const [winner] = await open();
  if (!winner) throw new Error(`no open conversation for contact ${contactId} after a conflicting insert`);
  return { conversation: conversationFromRow(winner), opened: false };
}
