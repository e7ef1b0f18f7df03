/**
 * OutboundStore in memory (see tenant-tables.ts): the send path's rules run
 * in the use cases, so a fake that stores what it is given is enough for
 * their unit tests. What only SQL decides (locks across replicas, paging
 * cursors) is the integration tests' business.
 */
import { randomUUID } from "node:crypto";

import type { AccountQueueStats, StoredMessage } from "../../../src/domain/outbound/index.js";
import type { FailedMessagesPage, FailedMessagesQuery, OutboundStore, OutboundTransaction } from "../../../src/ports/outbound-store.js";
import { TenantTables, type Tables } from "./tenant-tables.js";

export class InMemoryOutboundStore implements OutboundStore {
  constructor(readonly tables: TenantTables = new TenantTables()) {}

  inTransaction<T>(tenantId: string, work: (tx: OutboundTransaction) => Promise<T>): Promise<T> {
    return this.tables.transaction(tenantId, (t) => work(outboundTransaction(tenantId, t)));
  }

  async getMessage(tenantId: string, messageId: string): Promise<StoredMessage | undefined> {
    return this.tables.known(tenantId) ? this.tables.of(tenantId).messages.get(messageId) : undefined;
  }

  async listFailedMessages(tenantId: string, query: FailedMessagesQuery): Promise<FailedMessagesPage> {
    const failed = [...this.tables.of(tenantId).messages.values()].filter(
      (m) => m.status === "failed" && (query.accountId === undefined || m.accountId === query.accountId) && (query.minFailTime === undefined || (m.failedTime ?? m.updateTime) >= query.minFailTime),
    );
    return { messages: failed.slice(0, query.pageSize), nextPageToken: "" };
  }

  async queueStats(tenantId: string, accountId: string | undefined): Promise<AccountQueueStats[]> {
    const tables = this.tables.of(tenantId);
    return [...tables.accounts.values()]
      .filter((a) => accountId === undefined || a.id === accountId)
      .map((a) => {
        const of = (status: string) => [...tables.messages.values()].filter((m) => m.accountId === a.id && m.direction === "outbound" && m.status === status).length;
        return { accountId: a.id, queued: of("queued"), sending: of("sending"), retrying: 0, failed: of("failed"), oldestAgeMs: 0, oldestSendingAgeMs: 0, rateLimitPerSecond: 80, circuitOpen: false };
      });
  }

  async recordRead(tenantId: string, messageId: string, at: Date): Promise<void> {
    const message = this.tables.of(tenantId).messages.get(messageId);
    if (message) Object.assign(message, { status: "read", readTime: at, updateTime: at });
  }
}

/** One tenant's tables as the send transaction sees them. */
export function outboundTransaction(tenantId: string, t: Tables): OutboundTransaction {
  return {
    async account(accountId) {
      return t.accounts.get(accountId);
    },
    async claimIdempotencyKey(key, messageId, now, expireTime) {
      const held = t.idempotencyKeys.get(key);
      if (held && held.expireTime > now) return held.messageId;
      t.idempotencyKeys.set(key, { messageId, expireTime });
      return messageId;
    },
    async upsertRecipient(recipient, at) {
      // A BSUID recipient (no number) is its contact's user id; a number is its wa id.
      const known = [...t.contacts.values()].find((c) => (recipient.bsuid === undefined ? c.waId === recipient.waId : c.userId === recipient.bsuid));
      if (known) return { contact: known, created: false };
      const contact = {
        id: randomUUID(),
        waId: recipient.waId,
        phone: recipient.e164,
        profileName: "",
        userId: recipient.bsuid ?? "",
        parentUserId: "",
        username: "",
        optedOut: false,
        firstSeenTime: at,
        lastSeenTime: at,
      };
      t.contacts.set(contact.id, contact);
      return { contact, created: true };
    },
    async lastInboundTime(accountId, contactId) {
      return t.lastInbound.get(`${accountId}/${contactId}`);
    },
    async findMessage(reference) {
      const found = t.messages.get(reference) ?? [...t.messages.values()].find((m) => m.wamid === reference);
      return found && { id: found.id, wamid: found.wamid };
    },
    async findOrOpenConversation(accountId, contactId, at) {
      const open = [...t.conversations.values()].find((c) => c.accountId === accountId && c.contactId === contactId && c.status !== "closed");
      if (open) return { conversation: open, opened: false };
      const conversation = {
        id: randomUUID(),
        accountId,
        contactId,
        status: "active" as const,
        source: "manual" as const,
        context: "",
        summary: "",
        externalRefs: {},
        metadata: {},
        messageCount: 0,
        inboundMessageCount: 0,
        outboundMessageCount: 0,
        lastInboundTime: undefined,
        lastOutboundTime: undefined,
        createTime: at,
        updateTime: at,
        closeTime: undefined,
      };
      t.conversations.set(conversation.id, conversation);
      return { conversation, opened: true };
    },
    async insertQueuedMessage(m) {
      const account = t.accounts.get(m.accountId);
      const contact = t.contacts.get(m.contactId);
      if (!account || !contact) throw new Error(`insertQueuedMessage: unknown account ${m.accountId} or contact ${m.contactId}`);
      const now = new Date();
      t.messages.set(m.id, {
        id: m.id,
        accountId: m.accountId,
        accountPhone: account.displayPhoneNumber,
        conversationId: m.conversationId,
        contact,
        direction: "outbound",
        type: m.type,
        status: "queued",
        wamid: undefined,
        content: m.content,
        replyToMessageId: m.replyToMessageId,
        priority: m.priority,
        idempotencyKey: m.idempotencyKey,
        metadata: m.metadata,
        error: undefined,
        attemptCount: 0,
        nextAttemptTime: undefined,
        pricing: undefined,
        createTime: now,
        updateTime: now,
        sentTime: undefined,
        deliveredTime: undefined,
        readTime: undefined,
        failedTime: undefined,
      });
      t.jobs.push({ messageId: m.id, accountId: m.accountId, tenantId, priority: m.priority });
    },
    async countOutboundMessage(conversationId, at) {
      const conversation = t.conversations.get(conversationId);
      if (!conversation) throw new Error(`countOutboundMessage: unknown conversation ${conversationId}`);
      Object.assign(conversation, {
        messageCount: conversation.messageCount + 1,
        outboundMessageCount: conversation.outboundMessageCount + 1,
        lastOutboundTime: at,
        updateTime: at,
      });
      return conversation;
    },
    async enqueueSend(job) {
      t.jobs.push(job);
    },
    async lockMessage(messageId) {
      return t.messages.get(messageId);
    },
    async requeueMessage(messageId) {
      const message = t.messages.get(messageId);
      if (message) Object.assign(message, { status: "queued", attemptCount: 0, error: undefined, wamid: undefined, failedTime: undefined });
    },
    async message(messageId) {
      return t.messages.get(messageId);
    },
    async appendEvents(events) {
      t.events.push(...events);
    },
  };
}
