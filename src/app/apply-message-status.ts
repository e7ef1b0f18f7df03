import type { DomainEvent } from "../domain/events.js";
import type { StatusUpdate } from "../domain/inbound.js";
import type { AccountRef, OutboundMessageSnapshot } from "../domain/inbound-events.js";
import { failureEvents, providerErrorOf } from "../domain/message-failure.js";
import { advancesTo } from "../domain/message-status.js";
import type { MessageStatusStore } from "../ports/inbound-store.js";
import type { InboundDeps } from "./receive-inbound-message.js";

/**
 * - moved: the status moved the message forward (one message.status event;
 *   to FAILED, also the message.failed — domain/message-failure.ts);
 * - stale: late, repeated or contradictory; at most its timestamp is recorded;
 * - kept: the message is not known yet; the status waits in pending_statuses;
 * - not_outbound: the wamid is an inbound message; statuses do not apply.
 */
export type StatusOutcome = "moved" | "stale" | "kept" | "not_outbound";

/**
 * Applies one provider status to the outbound message it names, forward only
 * (domain/message-status.ts). A status whose message is not stored yet is
 * kept, never dropped, and applied when the sending work records the wamid.
 */
export async function applyStatusUpdate(
  tenant: MessageStatusStore,
  account: AccountRef,
  update: StatusUpdate,
  deps: InboundDeps,
): Promise<{ outcome: StatusOutcome; events: DomainEvent[] }> {
  await tenant.lockWamid(update.wamid);
  const message = await tenant.lockMessageByWamid(update.wamid);
  if (!message) {
    await tenant.keepPendingStatus(update);
    return { outcome: "kept", events: [] };
  }
  return advanceMessage(tenant, account, message, update, deps);
}

/**
 * Applies the statuses kept for `wamid` while its message was unknown, in the
 * order they arrived — as if each had come after the message was stored, so
 * `read` kept before `delivered` gives one event (read), like it would live.
 * Call it in the transaction that records the wamid, after recording it.
 * Returns the events, already written to the outbox.
 */
export async function applyPendingStatuses(
  tenant: MessageStatusStore,
  wamid: string,
  accountFor: (accountId: string) => Promise<AccountRef | undefined>,
  deps: InboundDeps,
): Promise<DomainEvent[]> {
  await tenant.lockWamid(wamid);
  const message = await tenant.lockMessageByWamid(wamid);
  if (!message) return [];
  const pending = await tenant.takePendingStatuses(wamid);
  if (pending.length === 0) return [];
  const account = await accountFor(message.accountId);
  if (!account) throw new Error(`account ${message.accountId} of message ${message.id} not found`);
  const events: DomainEvent[] = [];
  let current = message;
  for (const update of pending) {
    const result = await advanceMessage(tenant, account, current, update, deps);
    events.push(...result.events);
    if (result.outcome === "moved") current = { ...current, status: update.status };
  }
  await tenant.appendEvents(events);
  return events;
}

async function advanceMessage(
  tenant: MessageStatusStore,
  account: AccountRef,
  message: OutboundMessageSnapshot,
  update: StatusUpdate,
  deps: InboundDeps,
): Promise<{ outcome: StatusOutcome; events: DomainEvent[] }> {
  if (message.direction !== "outbound") return { outcome: "not_outbound", events: [] };
  const moves = advancesTo(message.status, update.status);
  const contradicts = update.status === "failed" || message.status === "failed";
  if (!moves && contradicts) return { outcome: "stale", events: [] };

  const error = update.status === "failed" ? update.errors[0] : undefined;
  // A stale sent/delivered/read still tells when that step happened (e.g. a
  // late `delivered` after `read`): its timestamp is kept, the status is not.
  await tenant.updateMessageStatus(message.id, {
    status: moves ? update.status : undefined,
    reported: update.status,
    at: update.timestamp,
    error,
    pricing: update.pricing,
  });
  if (!moves) return { outcome: "stale", events: [] };
  if (update.status === "failed") {
    // Meta reports a failure with its error; one without any still fails, under code 0.
    const reported = error ?? providerErrorOf({ code: 0, title: "Failed", details: "the provider reported the message failed without an error" });
    return {
      outcome: "moved",
      events: failureEvents(deps.newId, {
        account,
        occurredAt: deps.now(),
        message,
        statusTime: update.timestamp,
        error: reported,
        retryable: false,
        attemptCount: message.attemptCount ?? 1,
        idempotencyKey: message.idempotencyKey,
      }),
    };
  }
  return {
    outcome: "moved",
    events: [
      {
        kind: "message.status",
        eventId: deps.newId(),
        account,
        occurredAt: deps.now(),
        message,
        status: update.status,
        previousStatus: message.status,
        statusTime: update.timestamp,
        error,
        pricing: update.pricing,
        providerConversation: update.conversation,
      },
    ],
  };
}
