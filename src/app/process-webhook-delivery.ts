import type { DomainEvent } from "../domain/events.js";
import type { InboundDelivery, ManagementChange, MessagingChange } from "../domain/inbound.js";
import type { AccountRef, InboundEvent } from "../domain/inbound-events.js";
import type { InboundStore, StoredInboundMessage, TenantInboundStore } from "../ports/inbound-store.js";
import { NO_REACTIONS } from "./inbound-reactions.js";
import { applyStatusUpdate } from "./apply-message-status.js";
import { receiveInboundMessage, type InboundDeps } from "./receive-inbound-message.js";
import { senderKeys } from "../domain/contact-identity.js";
import { independentOf, receiveInboundMessages, type InboundMessageItem } from "./receive-inbound-messages.js";

/** What one delivery did; the worker logs it and adds it to its counters after commit. */
export interface DeliveryOutcome {
  /** Changes routed to an account (and so to a tenant). */
  routedChanges: number;
  /** Changes no live account claims: kept for operators, not retried. */
  unroutableChanges: number;
  messagesStored: number;
  /** Messages whose wamid was stored already. */
  duplicateMessages: number;
  /** Statuses that moved a message forward. */
  statusesApplied: number;
  /** Late, repeated or contradictory statuses (no state change). */
  statusesStale: number;
  /** Statuses of messages not known yet, kept for later. */
  statusesKept: number;
  /** Statuses naming an inbound message. */
  statusesIgnored: number;
  /** Management updates recorded (templates, account, quality, errors…). */
  updatesRecorded: number;
  /** Items the provider adapter could not read. */
  skippedItems: number;
  events: number;
}

export function emptyOutcome(): DeliveryOutcome {
  return {
    routedChanges: 0,
    unroutableChanges: 0,
    messagesStored: 0,
    duplicateMessages: 0,
    statusesApplied: 0,
    statusesStale: 0,
    statusesKept: 0,
    statusesIgnored: 0,
    updatesRecorded: 0,
    skippedItems: 0,
    events: 0,
  };
}

/**
 * Applies one webhook delivery. The store is bound to one transaction, so
 * the whole delivery — every tenant it touches, every event it reports —
 * commits at once or not at all; a repeated delivery changes nothing (wamids
 * are stored once, statuses move forward only, updates are deduplicated).
 * Tenants are handled one after another: the tenant scope belongs to the
 * transaction.
 */
export async function processWebhookDelivery(delivery: InboundDelivery, store: InboundStore, deps: InboundDeps): Promise<DeliveryOutcome> {
  const outcome = emptyOutcome();
  for (const change of delivery.changes) {
    if (change.kind === "messaging") await processMessagingChange(change, store, deps, outcome);
    else await processManagementChange(change, store, deps, outcome);
  }
  return outcome;
}

/** One delivery of a batch, with the store for its part of the shared transaction. */
export interface DeliveryInBatch {
  delivery: InboundDelivery;
  store: InboundStore;
}

/**
 * Applies the deliveries of one transaction, in order, with the same outcome
 * as `processWebhookDelivery` on each — but set-wise where it can: runs of
 * deliveries that only carry inbound messages for one tenant, no two of
 * them from one sender or with one wamid (see `independentOf`), are stored
 * by one `receiveInboundMessages` call, a handful of statements for the
 * whole run. Anything else (statuses, errors, management updates,
 * unroutable changes, a second message of a sender) ends the run and goes
 * one by one, so per-conversation order and every other rule hold.
 * Outcomes are in delivery order.
 */
export async function processWebhookDeliveries(batch: readonly DeliveryInBatch[], deps: InboundDeps): Promise<DeliveryOutcome[]> {
  const outcomes = batch.map(() => emptyOutcome());
  let run: MessagesRun | undefined;
  const flush = async () => {
    if (run) await applyRun(run, outcomes, deps);
    run = undefined;
  };
  for (const [index, { delivery, store }] of batch.entries()) {
    const items = await messagesOnly(delivery, store);
    if (!items || !canJoin(EMPTY_RUN, items)) {
      await flush();
      outcomes[index] = await processWebhookDelivery(delivery, store, deps);
      continue;
    }
    const tenantId = items[0]?.account.tenantId;
    if (run && (tenantId === undefined || tenantId === run.tenantId) && canJoin(run, items)) {
      addToRun(run, index, delivery, items);
    } else {
      await flush();
      run = { store, tenantId: tenantId ?? "", items: [], owners: [], waIds: new Set(), wamids: new Set(), deliveries: [] };
      addToRun(run, index, delivery, items);
    }
  }
  await flush();
  return outcomes;
}

/** Deliveries stored together: their messages, which delivery each belongs to, and what they touch. */
interface MessagesRun {
  store: InboundStore;
  tenantId: string;
  items: InboundMessageItem[];
  owners: number[];
  waIds: Set<string>;
  wamids: Set<string>;
  /** Per delivery: its index, routed changes and unreadable items, for its outcome. */
  deliveries: { index: number; changes: number; skipped: number }[];
}

/**
 * The inbound messages of a delivery made only of routed messages changes
 * (no statuses, no errors) of one tenant, with their accounts; undefined
 * when it holds anything else. Routing answers are shared by the
 * transaction, so asking here costs nothing later.
 */
async function messagesOnly(delivery: InboundDelivery, store: InboundStore): Promise<InboundMessageItem[] | undefined> {
  const items: InboundMessageItem[] = [];
  let tenantId: string | undefined;
  for (const change of delivery.changes) {
    if (change.kind !== "messaging" || change.statuses.length > 0 || change.errors.length > 0 || change.phoneNumberId === "") return undefined;
    const account = await store.accountByPhoneNumberId(change.provider, change.phoneNumberId);
    if (!account || (tenantId !== undefined && account.tenantId !== tenantId)) return undefined;
    tenantId = account.tenantId;
    for (const message of change.messages) items.push({ account, change, message });
  }
  return delivery.changes.length > 0 ? items : undefined;
}

/** Nothing yet: `canJoin(EMPTY_RUN, items)` tells whether a delivery's own messages are independent. */
const EMPTY_RUN = { waIds: new Set<string>(), wamids: new Set<string>() };

/** Whether the messages, added in order, stay independent of the run's and of each other's. */
function canJoin(run: Pick<MessagesRun, "waIds" | "wamids">, items: readonly InboundMessageItem[]): boolean {
  const waIds = new Set(run.waIds);
  const wamids = new Set(run.wamids);
  for (const { message } of items) {
    if (!independentOf({ waIds, wamids }, message)) return false;
    for (const key of senderKeys(message)) waIds.add(key);
    wamids.add(message.wamid);
  }
  return true;
}

function addToRun(run: MessagesRun, index: number, delivery: InboundDelivery, items: readonly InboundMessageItem[]): void {
  for (const item of items) {
    run.items.push(item);
    run.owners.push(index);
    for (const key of senderKeys(item.message)) run.waIds.add(key);
    run.wamids.add(item.message.wamid);
  }
  const skipped = delivery.changes.reduce((n, c) => n + (c.kind === "messaging" ? c.skipped.length : 0), 0);
  run.deliveries.push({ index, changes: delivery.changes.length, skipped });
}

async function applyRun(run: MessagesRun, outcomes: DeliveryOutcome[], deps: InboundDeps): Promise<void> {
  for (const { index, changes, skipped } of run.deliveries) {
    outcomes[index]!.routedChanges += changes;
    outcomes[index]!.skippedItems += skipped;
  }
  if (run.items.length === 0) return;
  await run.store.inTenant(run.tenantId, async (tenant) => {
    const results = await receiveInboundMessages(tenant, run.items, deps);
    const events: InboundEvent[] = [];
    const stored: StoredInboundMessage[] = [];
    results.forEach((result, i) => {
      const outcome = outcomes[run.owners[i]!]!;
      if (result.stored) {
        outcome.messagesStored += 1;
        stored.push(result.inbound);
      } else outcome.duplicateMessages += 1;
      outcome.events += result.events.length;
      events.push(...result.events);
    });
    await tenant.appendEvents(events);
    if (stored.length > 0) await reactToMessages(tenant, stored, deps);
  });
}

async function processMessagingChange(change: MessagingChange, store: InboundStore, deps: InboundDeps, outcome: DeliveryOutcome): Promise<void> {
  outcome.skippedItems += change.skipped.length;
  const account = change.phoneNumberId === "" ? undefined : await store.accountByPhoneNumberId(change.provider, change.phoneNumberId);
  if (!account) {
    await store.recordUnroutable(change);
    outcome.unroutableChanges += 1;
    return;
  }
  outcome.routedChanges += 1;
  await store.inTenant(account.tenantId, async (tenant) => {
    const events: DomainEvent[] = [];
    const stored: StoredInboundMessage[] = [];
    for (const message of change.messages) {
      const result = await receiveInboundMessage(tenant, account, change, message, deps);
      if (result.stored) {
        outcome.messagesStored += 1;
        stored.push(result.inbound);
      } else outcome.duplicateMessages += 1;
      events.push(...result.events);
    }
    for (const status of change.statuses) {
      const result = await applyStatusUpdate(tenant, account, status, deps);
      if (result.outcome === "moved") outcome.statusesApplied += 1;
      else if (result.outcome === "stale") outcome.statusesStale += 1;
      else if (result.outcome === "kept") outcome.statusesKept += 1;
      else outcome.statusesIgnored += 1;
      events.push(...result.events);
    }
    if (change.errors.length > 0 && (await tenant.recordProviderUpdate(errorsAsUpdate(change, deps.now()), account.id))) {
      outcome.updatesRecorded += 1;
    }
    await tenant.appendEvents(events);
    if (stored.length > 0) await reactToMessages(tenant, stored, deps);
    outcome.events += events.length;
  });
}

/**
 * Management updates name a WABA (or, for a few fields, one number). Each
 * tenant owning an account of it records the update once, naming the
 * account when the update points at exactly one.
 */
async function processManagementChange(change: ManagementChange, store: InboundStore, deps: InboundDeps, outcome: DeliveryOutcome): Promise<void> {
  const accounts = change.phoneNumberId
    ? [await store.accountByPhoneNumberId(change.provider, change.phoneNumberId)].filter((a): a is AccountRef => a !== undefined)
    : change.wabaId === ""
      ? []
      : await store.accountsByWabaId(change.provider, change.wabaId);
  if (accounts.length === 0) {
    await store.recordUnroutable(change);
    outcome.unroutableChanges += 1;
    return;
  }
  outcome.routedChanges += 1;
  for (const [tenantId, ofTenant] of groupByTenant(accounts)) {
    const accountId = accountNamedBy(change, ofTenant)?.id;
    const recorded = await store.inTenant(tenantId, async (tenant) => {
      const first = await tenant.recordProviderUpdate(change, accountId);
      if (first) await reactToProviderUpdate(tenant, change, accountId, deps);
      return first;
    });
    if (recorded) outcome.updatesRecorded += 1;
  }
}

function groupByTenant(accounts: AccountRef[]): Map<string, AccountRef[]> {
  const groups = new Map<string, AccountRef[]>();
  for (const account of accounts) groups.set(account.tenantId, [...(groups.get(account.tenantId) ?? []), account]);
  return groups;
}

/** The one account an update is about: the only one, or the number a quality update names. */
function accountNamedBy(change: ManagementChange, accounts: AccountRef[]): AccountRef | undefined {
  if (accounts.length === 1) return accounts[0];
  if (change.details.kind === "phone_number_quality") {
    const digits = change.details.quality.displayPhoneNumber.replace(/\D/g, "");
    return accounts.find((a) => a.displayPhoneNumber.replace(/\D/g, "") === digits);
  }
  return undefined;
}

/**
 * Account-level errors of a messages change (e.g. 130429), recorded like a
 * management update. They carry no time of their own, so the time they were
 * processed stands in: two occurrences of the same error stay two records.
 */
function errorsAsUpdate(change: MessagingChange, at: Date): ManagementChange {
  return {
    kind: "management",
    provider: change.provider,
    field: "messages",
    wabaId: change.wabaId,
    phoneNumberId: change.phoneNumberId,
    event: "errors",
    time: at,
    details: { kind: "errors", errors: change.errors },
    raw: { errors: change.errors },
  };
}

/** The reactions to newly stored messages (app/inbound-reactions.ts), in their transaction, after their events. */
async function reactToMessages(tenant: TenantInboundStore, stored: readonly StoredInboundMessage[], deps: InboundDeps): Promise<void> {
  const reactions = deps.reactions ?? NO_REACTIONS;
  if (reactions.messages.length === 0) return;
  const scope = tenant.reactionScope();
  for (const react of reactions.messages) await react(scope, stored, deps);
}

/** The reactions to a management update the tenant recorded for the first time. */
async function reactToProviderUpdate(tenant: TenantInboundStore, update: ManagementChange, accountId: string | undefined, deps: InboundDeps): Promise<void> {
  const reactions = deps.reactions ?? NO_REACTIONS;
  if (reactions.providerUpdates.length === 0) return;
  const scope = tenant.reactionScope();
  for (const react of reactions.providerUpdates) await react(scope, update, accountId, deps);
}
