/**
 * ConversationStore in memory, over the same tables as the send path's fake
 * (StartConversation queues through the send path in its transaction). Lists
 * come newest first without real paging: keyset paging is SQL's, tested
 * against PostgreSQL.
 */
import type { SettingsChange, StoredConversationSettings } from "../../../src/domain/conversations/settings.js";
import type { ContactSnapshot } from "../../../src/domain/inbound-events.js";
import type { StoredMessage } from "../../../src/domain/outbound/index.js";
import type {
  ContactFilter,
  ConversationFilter,
  ConversationOpening,
  ConversationRecord,
  ConversationStore,
  ConversationTransaction,
  Keyed,
  MessageQuery,
  StartConversationTransaction,
} from "../../../src/ports/conversation-store.js";
import type { PageKey } from "../../../src/domain/conversations/page-token.js";
import { outboundTransaction } from "./outbound-store.js";
import { TenantTables, type Tables } from "./tenant-tables.js";

const keyOf = (time: Date, id: string): PageKey => ({ time: time.toISOString(), id });

export class InMemoryConversationStore implements ConversationStore {
  constructor(readonly tables: TenantTables = new TenantTables()) {}

  async listConversations(tenantId: string, query: { filter: ConversationFilter; limit: number }): Promise<Keyed<ConversationRecord>[]> {
    const t = this.tables.of(tenantId);
    const { filter } = query;
    return [...t.conversations.values()]
      .filter((c) => (filter.accountId === undefined || c.accountId === filter.accountId) && (filter.status === undefined || c.status === filter.status))
      .sort((a, b) => b.updateTime.getTime() - a.updateTime.getTime())
      .slice(0, query.limit)
      .map((c) => ({ item: recordOf(t, c.id)!, key: keyOf(c.updateTime, c.id) }));
  }

  async getConversation(tenantId: string, conversationId: string): Promise<ConversationRecord | undefined> {
    return this.tables.known(tenantId) ? recordOf(this.tables.of(tenantId), conversationId) : undefined;
  }

  async listMessages(tenantId: string, query: MessageQuery): Promise<Keyed<StoredMessage>[] | undefined> {
    const t = this.tables.of(tenantId);
    if (!t.conversations.has(query.conversationId)) return undefined;
    const sign = query.order === "newest_first" ? -1 : 1;
    return [...t.messages.values()]
      .filter((m) => m.conversationId === query.conversationId && (query.direction === undefined || m.direction === query.direction))
      .sort((a, b) => sign * (a.createTime.getTime() - b.createTime.getTime()))
      .slice(0, query.limit)
      .map((m) => ({ item: m, key: keyOf(m.createTime, m.id) }));
  }

  async getContact(tenantId: string, contactId: string): Promise<ContactSnapshot | undefined> {
    return this.tables.known(tenantId) ? this.tables.of(tenantId).contacts.get(contactId) : undefined;
  }

  async listContacts(tenantId: string, query: { filter: ContactFilter; limit: number }): Promise<Keyed<ContactSnapshot>[]> {
    const { filter } = query;
    return [...this.tables.of(tenantId).contacts.values()]
      .filter((c) => (filter.waId === undefined || c.waId === filter.waId) && (filter.optedOut === undefined || c.optedOut === filter.optedOut))
      .slice(0, query.limit)
      .map((c) => ({ item: c, key: keyOf(c.lastSeenTime, c.id) }));
  }

  async getSettings(tenantId: string): Promise<StoredConversationSettings> {
    return this.tables.of(tenantId).settings;
  }

  updateSettings(tenantId: string, change: SettingsChange): Promise<StoredConversationSettings> {
    return this.tables.transaction(tenantId, async (t) => {
      const s = t.settings;
      if (change.optOutKeywords !== undefined) s.optOutKeywords = change.optOutKeywords ?? undefined;
      if (change.optInKeywords !== undefined) s.optInKeywords = change.optInKeywords ?? undefined;
      if (change.inactivityTimeoutSeconds !== undefined) s.inactivityTimeoutSeconds = change.inactivityTimeoutSeconds ?? undefined;
      s.updateTime = new Date();
      return s;
    });
  }

  inTransaction<T>(tenantId: string, work: (tx: ConversationTransaction) => Promise<T>): Promise<T> {
    const known = this.tables.known(tenantId);
    return this.tables.transaction(tenantId, (t) => work(conversationTransaction(t, known)));
  }

  inStartTransaction<T>(tenantId: string, opening: ConversationOpening, work: (tx: StartConversationTransaction) => Promise<T>): Promise<T> {
    return this.tables.transaction(tenantId, (t) => {
      const outbound = outboundTransaction(tenantId, t);
      const tx: StartConversationTransaction = {
        ...outbound,
        async findOrOpenConversation(accountId, contactId, at) {
          const found = await outbound.findOrOpenConversation(accountId, contactId, at);
          const c = found.conversation;
          if (found.opened) Object.assign(c, { source: opening.source, context: opening.context, externalRefs: { ...opening.externalRefs }, metadata: { ...opening.metadata } });
          else Object.assign(c, { context: opening.context, externalRefs: { ...c.externalRefs, ...opening.externalRefs }, metadata: { ...c.metadata, ...opening.metadata } });
          return found;
        },
        accountRef: async (accountId) => refOf(t, accountId),
        async claimRequest(requestId, provisionalMessageId, now, expireTime) {
          const held = t.startRequests.get(requestId);
          if (held && held.expireTime > now) return held.messageId;
          t.startRequests.set(requestId, { messageId: provisionalMessageId, expireTime });
          return provisionalMessageId;
        },
        async bindRequest(requestId, messageId) {
          const held = t.startRequests.get(requestId);
          if (held) held.messageId = messageId;
        },
        contactByWaId: async (waId) => [...t.contacts.values()].find((c) => c.waId === waId),
        templateCategory: async (accountId, name, language) => t.templateCategories.get(`${accountId}/${name}/${language}`),
        conversation: async (conversationId) => recordOf(t, conversationId),
      };
      return work(tx);
    });
  }
}

function recordOf(t: Tables, conversationId: string): ConversationRecord | undefined {
  const conversation = t.conversations.get(conversationId);
  const contact = conversation && t.contacts.get(conversation.contactId);
  if (!conversation || !contact) return undefined;
  return { conversation, contact, windowFrom: t.lastInbound.get(`${conversation.accountId}/${contact.id}`) };
}

function conversationTransaction(t: Tables, tenantKnown: boolean): ConversationTransaction {
  return {
    lockConversation: async (conversationId) => (tenantKnown ? recordOf(t, conversationId) : undefined),
    async applyUpdate(conversationId, set) {
      const conversation = t.conversations.get(conversationId);
      if (!conversation) throw new Error(`conversation ${conversationId} vanished`);
      // The close reason is a column, not part of the snapshot.
      const { closeReason: _reason, ...columns } = set;
      Object.assign(conversation, columns, { updateTime: new Date() });
      return conversation;
    },
    accountRef: async (accountId) => refOf(t, accountId),
    async appendClosed(event) {
      t.closed.push(event);
    },
  };
}

function refOf(t: Tables, accountId: string) {
  const account = t.accounts.get(accountId);
  if (!account) return undefined;
  const { status: _status, ...ref } = account;
  return ref;
}
