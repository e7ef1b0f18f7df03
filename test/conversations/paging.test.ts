/**
 * Issue 5 acceptance 2: paging stays correct while 500 messages arrive
 * during the listing. Between every two pages of a ListConversations walk
 * and of ListMessages walks (both orders), a chunk of the 500 inbound
 * messages is delivered through the webhook and stored — messages from
 * contacts whose conversations were already listed or not yet (their
 * update_time moves), into the conversation being walked, and from new
 * contacts (new conversations). The interleaving is deterministic: each
 * chunk is stored before the next page is asked for.
 *
 * Every row that existed when the walk began appears exactly once, no row
 * appears twice, and the pages are in the documented order.
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { Account } from "../../gen/whatsapp/v1/account_pb.js";
import { ListMessagesRequest_Order } from "../../gen/whatsapp/v1/conversation_pb.js";
import { createAccount, newWaId, receive, startHarness, tenantClients, type Harness, type Inbound, type Tenant } from "./support.js";

const EXISTING_CONTACTS = 90;
const EXISTING_MESSAGES_IN_THREAD = 120;
const ARRIVING = 500;

let harness: Harness;
let tenant: Tenant;
let account: Account;
const contacts = Array.from({ length: EXISTING_CONTACTS }, () => newWaId());
const threadContact = newWaId();
let threadId: string;

beforeAll(async () => {
  harness = await startHarness();
  tenant = tenantClients(harness, "paging");
  account = await createAccount(tenant);
  // Existing: 90 conversations (one delivery with 90 senders), and one thread of 120 messages.
  await receive(harness, tenant, account, contacts.map((from, i) => ({ from, body: `first ${i}` })));
  await receive(
    harness,
    tenant,
    account,
    Array.from({ length: EXISTING_MESSAGES_IN_THREAD }, (_, i) => ({ from: threadContact, body: `thread ${i}` })),
  );
  const listed = await tenant.conversations.listConversations({ contactPhone: `+${threadContact}` });
  threadId = listed.conversations[0]!.id;
}, 120_000);

afterAll(async () => {
  await harness?.cleanup();
});

/**
 * The 500 arriving messages, in chunks: cycling through existing contacts
 * (their conversations jump to the newest update_time), the walked thread,
 * and new contacts.
 */
function arrivals(chunks: number): Inbound[][] {
  const all: Inbound[] = [];
  for (let i = 0; i < ARRIVING; i++) {
    if (i % 3 === 0) all.push({ from: contacts[(i * 7) % contacts.length]!, body: `again ${i}` });
    else if (i % 3 === 1) all.push({ from: threadContact, body: `live ${i}` });
    else all.push({ from: newWaId(), body: `new ${i}` });
  }
  const size = Math.ceil(all.length / chunks);
  return Array.from({ length: chunks }, (_, c) => all.slice(c * size, (c + 1) * size)).filter((chunk) => chunk.length > 0);
}

async function countMessages(): Promise<number> {
  const [row] = await harness.sql.unsafe<{ n: number }[]>(`select count(*)::int as n from "${tenant.schema}".messages`);
  return row!.n;
}

describe("paging while messages arrive", () => {
  it("when 500 inbound messages are stored between the pages of conversation and message walks, then every existing row is listed exactly once, in order, and none twice", async () => {
    const beforeConversations = new Set(
      (await harness.sql.unsafe<{ id: string }[]>(`select id from "${tenant.schema}".conversations`)).map((r) => r.id),
    );
    const beforeThread = (
      await harness.sql.unsafe<{ id: string }[]>(`select id from "${tenant.schema}".messages where conversation_id = $1`, [threadId])
    ).map((r) => r.id);
    expect(beforeConversations.size).toBe(EXISTING_CONTACTS + 1);
    expect(beforeThread).toHaveLength(EXISTING_MESSAGES_IN_THREAD);
    const storedBefore = await countMessages();

    // Three walks, interleaved with the 500 arrivals: ~13 conversation pages, 2 × ~14 message pages.
    const chunks = arrivals(40);
    let next = 0;
    const deliverChunk = async () => {
      const chunk = chunks[next++];
      if (chunk) await receive(harness, tenant, account, chunk);
    };

    const conversationIds: string[] = [];
    const conversationKeys: [number, string][] = [];
    let token = "";
    do {
      const page = await tenant.conversations.listConversations({ pageSize: 7, pageToken: token });
      for (const c of page.conversations) {
        conversationIds.push(c.id);
        conversationKeys.push([timestampDate(c.createTime!).getTime(), c.id]);
      }
      token = page.nextPageToken;
      await deliverChunk();
    } while (token !== "");

    const threadNow = async () =>
      (await harness.sql.unsafe<{ id: string }[]>(`select id from "${tenant.schema}".messages where conversation_id = $1`, [threadId])).map((r) => r.id);
    const walkMessages = async (order: ListMessagesRequest_Order) => {
      const existing = await threadNow();
      const seen: string[] = [];
      let pageToken = "";
      do {
        const page = await tenant.conversations.listMessages({ conversationId: threadId, pageSize: 9, pageToken, order });
        seen.push(...page.messages.map((m) => m.id));
        pageToken = page.nextPageToken;
        await deliverChunk();
      } while (pageToken !== "");
      return { seen, existing };
    };
    const newestFirst = await walkMessages(ListMessagesRequest_Order.NEWEST_FIRST);
    const oldestFirst = await walkMessages(ListMessagesRequest_Order.OLDEST_FIRST);
    while (next < chunks.length) await deliverChunk();
    expect(await countMessages()).toBe(storedBefore + ARRIVING);

    // Conversations: every one that existed is there once; none twice; newest first.
    expect(new Set(conversationIds).size).toBe(conversationIds.length);
    expect(conversationIds.filter((id) => beforeConversations.has(id)).sort()).toEqual([...beforeConversations].sort());
    for (let i = 1; i < conversationKeys.length; i++) {
      const [prevTime, prevId] = conversationKeys[i - 1]!;
      const [time, id] = conversationKeys[i]!;
      expect(prevTime > time || (prevTime === time && prevId > id), `conversation ${i} out of order`).toBe(true);
    }

    // Messages of the walked thread: every message there when a walk began, once; none twice.
    for (const walk of [newestFirst, oldestFirst]) {
      expect(new Set(walk.seen).size).toBe(walk.seen.length);
      expect(walk.seen.filter((id) => walk.existing.includes(id)).sort()).toEqual([...walk.existing].sort());
      expect(beforeThread.every((id) => walk.seen.includes(id))).toBe(true);
    }
    // Newest first walks back from the newest message at its start: later arrivals are ahead of it, so it is exactly that snapshot.
    expect([...newestFirst.seen].sort()).toEqual([...newestFirst.existing].sort());
    // Oldest first also reaches the messages that arrived during the walk (they sort after its position).
    expect(oldestFirst.seen.length).toBeGreaterThan(oldestFirst.existing.length);
    // Both orders agree on the order of the rows they share.
    const shared = oldestFirst.seen.filter((id) => newestFirst.seen.includes(id));
    expect([...newestFirst.seen].reverse().filter((id) => shared.includes(id))).toEqual(shared);
  }, 240_000);
});
