/**
 * In-memory tables behind the fakes of the send path and of one-time codes
 * (the ports OutboundStore and OtpStore share a transaction in PostgreSQL, so
 * their fakes share these tables). A transaction works on a copy and writes
 * it back only when its work succeeds, so a refusal leaves nothing behind —
 * as a rolled-back transaction does. Transactions run one at a time.
 */
import { randomUUID } from "node:crypto";

import type { ConversationClosed } from "../../../src/domain/conversations/conversation-update.js";
import { NO_STORED_SETTINGS, type StoredConversationSettings } from "../../../src/domain/conversations/settings.js";
import type { AccountRef, ContactSnapshot, ConversationSnapshot, InboundEvent } from "../../../src/domain/inbound-events.js";
import type { SendingAccount, StoredMessage } from "../../../src/domain/outbound/index.js";
import type { OtpVerified, StoredOtp } from "../../../src/domain/otp/otp.js";
import type { SendPriority } from "../../../src/domain/priority.js";

export interface Tables {
  accounts: Map<string, SendingAccount>;
  contacts: Map<string, ContactSnapshot>;
  conversations: Map<string, ConversationSnapshot>;
  messages: Map<string, StoredMessage>;
  idempotencyKeys: Map<string, { messageId: string; expireTime: Date }>;
  /** The contact's last message to an account: `${accountId}/${contactId}` → time. */
  lastInbound: Map<string, Date>;
  jobs: { messageId: string; accountId: string; tenantId: string; priority: SendPriority }[];
  events: InboundEvent[];
  otps: Map<string, StoredOtp>;
  otpVerified: OtpVerified[];
  /** APPROVED AUTHENTICATION templates: `${wabaId}/${name}` → languages. */
  approvedAuthTemplates: Map<string, string[]>;
  /** Live templates' categories: `${accountId}/${name}/${language}` → MARKETING, UTILITY… */
  templateCategories: Map<string, string>;
  settings: StoredConversationSettings;
  /** StartConversation request ids → the message they name. */
  startRequests: Map<string, { messageId: string; expireTime: Date }>;
  closed: ConversationClosed[];
}

function emptyTables(): Tables {
  return {
    accounts: new Map(),
    contacts: new Map(),
    conversations: new Map(),
    messages: new Map(),
    idempotencyKeys: new Map(),
    lastInbound: new Map(),
    jobs: [],
    events: [],
    otps: new Map(),
    otpVerified: [],
    approvedAuthTemplates: new Map(),
    templateCategories: new Map(),
    settings: { ...NO_STORED_SETTINGS },
    startRequests: new Map(),
    closed: [],
  };
}

export class TenantTables {
  readonly #tenants = new Map<string, Tables>();
  #queue: Promise<unknown> = Promise.resolve();

  /** The committed tables of a tenant (created empty on first use): tests read and seed them. */
  of(tenantId: string): Tables {
    let tables = this.#tenants.get(tenantId);
    if (!tables) this.#tenants.set(tenantId, (tables = emptyTables()));
    return tables;
  }

  /** Whether the tenant has any data (PostgreSQL: its schema exists). */
  known(tenantId: string): boolean {
    return this.#tenants.has(tenantId);
  }

  /** Runs `work` on a copy of the tenant's tables; the copy replaces them only if `work` succeeds. */
  transaction<T>(tenantId: string, work: (tables: Tables) => Promise<T>): Promise<T> {
    const run = async () => {
      const copy = structuredClone(this.of(tenantId));
      const result = await work(copy);
      this.#tenants.set(tenantId, copy);
      return result;
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** An account of the tenant that may send (seed). */
  addAccount(tenantId: string, account: Partial<SendingAccount> = {}): SendingAccount {
    const id = account.id ?? randomUUID();
    const stored: SendingAccount = {
      id,
      tenantId,
      provider: "meta",
      phoneNumberId: `pn-${id.slice(0, 8)}`,
      wabaId: `waba-${id.slice(0, 8)}`,
      businessId: "",
      displayPhoneNumber: "+14155550100",
      status: "active",
      ...account,
    };
    this.of(tenantId).accounts.set(id, stored);
    return stored;
  }

  /** A contact (seed), e.g. one who opted out. */
  addContact(tenantId: string, waId: string, fields: Partial<ContactSnapshot> = {}): ContactSnapshot {
    const now = new Date();
    const contact: ContactSnapshot = {
      id: randomUUID(),
      waId,
      phone: `+${waId}`,
      profileName: "",
      userId: "",
      parentUserId: "",
      username: "",
      optedOut: false,
      firstSeenTime: now,
      lastSeenTime: now,
      ...fields,
    };
    this.of(tenantId).contacts.set(contact.id, contact);
    return contact;
  }

  /** The contact wrote to the account at `at`: the 24-hour window is open from then (seed). */
  contactWrote(tenantId: string, account: AccountRef, waId: string, at: Date): ContactSnapshot {
    const tables = this.of(tenantId);
    const contact = [...tables.contacts.values()].find((c) => c.waId === waId) ?? this.addContact(tenantId, waId);
    tables.lastInbound.set(`${account.id}/${contact.id}`, at);
    return contact;
  }
}
