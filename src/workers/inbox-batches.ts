/**
 * How the inbox worker splits the rows it claimed into transactions that run
 * side by side. Deliveries that touch the same contact (sender) or the same
 * wamid go into the same transaction, in the order they were received, so:
 *
 * - per-conversation order holds: one sender's messages, and one message's
 *   statuses, are applied one after another in arrival order;
 * - the worker's own transactions never wait for each other's row locks
 *   (contact, conversation, message, the wamid advisory lock), so they
 *   cannot deadlock each other. Another replica still can; its deadlocks are
 *   retried like before.
 *
 * Deliveries with nothing in common are spread over at most `lanes`
 * transactions, the least loaded first.
 */
import { senderKeys } from "../domain/contact-identity.js";
import type { InboundDelivery } from "../domain/inbound.js";

/** What a delivery touches that another delivery must not touch at the same time. */
export function conflictKeys(delivery: InboundDelivery): string[] {
  const keys: string[] = [];
  for (const change of delivery.changes) {
    if (change.kind === "management") {
      keys.push(`waba:${change.wabaId}`);
      continue;
    }
    // The sender by each identifier it gives (wa id, BSUID): one user's deliveries share a lane.
    for (const message of change.messages) keys.push(...senderKeys(message).map((k) => `contact:${k}`), `wamid:${message.wamid}`);
    for (const status of change.statuses) keys.push(`wamid:${status.wamid}`);
    if (change.messages.length === 0 && change.statuses.length === 0) keys.push(`number:${change.phoneNumberId}`);
  }
  return keys;
}

/**
 * Splits `items` (in claim order) into at most `lanes` groups; items sharing
 * a key end in one group; each group keeps the claim order.
 */
export function planBatches<T>(items: readonly T[], keysOf: (item: T) => readonly string[], lanes: number): T[][] {
  const parent = items.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  const ownerOfKey = new Map<string, number>();
  items.forEach((item, i) => {
    for (const key of keysOf(item)) {
      const owner = ownerOfKey.get(key);
      if (owner === undefined) ownerOfKey.set(key, i);
      else parent[find(i)] = find(owner);
    }
  });

  const components = new Map<number, number[]>();
  items.forEach((_, i) => {
    const root = find(i);
    const component = components.get(root);
    if (component) component.push(i);
    else components.set(root, [i]);
  });
  // Largest first onto the least loaded lane: lanes end up about even.
  const ordered = [...components.values()].sort((a, b) => b.length - a.length || a[0]! - b[0]!);
  const groups: number[][] = Array.from({ length: Math.max(1, Math.min(lanes, ordered.length)) }, () => []);
  for (const component of ordered) {
    const lightest = groups.reduce((best, group) => (group.length < best.length ? group : best));
    lightest.push(...component);
  }
  return groups.filter((g) => g.length > 0).map((g) => g.sort((a, b) => a - b).map((i) => items[i]!));
}
