import type { InboundDelivery, ManagementChange, MessagingChange } from "../domain/inbound.js";
import type { AccountRef, InboundEvent } from "../domain/inbound-events.js";
import type { InboundStore } from "../ports/inbound-store.js";
import { applyStatusUpdate } from "./apply-message-status.js";
import { receiveInboundMessage, type InboundDeps } from "./receive-inbound-message.js";

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
    else await processManagementChange(change, store, outcome);
  }
  return outcome;
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
    const events: InboundEvent[] = [];
    for (const message of change.messages) {
      const result = await receiveInboundMessage(tenant, account, change, message, deps);
      if (result.stored) outcome.messagesStored += 1;
      else outcome.duplicateMessages += 1;
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
    outcome.events += events.length;
  });
}

/**
 * Management updates name a WABA (or, for a few fields, one number). Each
 * tenant owning an account of it records the update once, naming the
 * account when the update points at exactly one.
 */
async function processManagementChange(change: ManagementChange, store: InboundStore, outcome: DeliveryOutcome): Promise<void> {
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
    const recorded = await store.inTenant(tenantId, (tenant) => tenant.recordProviderUpdate(change, accountNamedBy(change, ofTenant)?.id));
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
