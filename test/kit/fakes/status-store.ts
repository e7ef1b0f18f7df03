/**
 * An in-memory fake of what the status use case (app/apply-message-status.ts)
 * needs of a tenant transaction: outbound messages by wamid, the statuses
 * kept for unknown wamids, and the events appended, in order.
 */
import type { DomainEvent } from "../../../src/domain/events.js";
import type { StatusUpdate } from "../../../src/domain/inbound.js";
import type { OutboundMessageSnapshot } from "../../../src/domain/inbound-events.js";
import type { MessageStatusStore, StatusChange } from "../../../src/ports/inbound-store.js";

export class FakeStatusStore implements MessageStatusStore {
  readonly messages = new Map<string, OutboundMessageSnapshot>();
  readonly changes: { messageId: string; change: StatusChange }[] = [];
  readonly pending: StatusUpdate[] = [];
  readonly events: DomainEvent[] = [];

  async lockWamid(): Promise<void> {}

  async lockMessageByWamid(wamid: string): Promise<OutboundMessageSnapshot | undefined> {
    const message = this.messages.get(wamid);
    return message && { ...message };
  }

  async updateMessageStatus(messageId: string, change: StatusChange): Promise<void> {
    this.changes.push({ messageId, change });
    if (!change.status) return;
    for (const [wamid, m] of this.messages) if (m.id === messageId) this.messages.set(wamid, { ...m, status: change.status });
  }

  async keepPendingStatus(update: StatusUpdate): Promise<boolean> {
    this.pending.push(update);
    return true;
  }

  async takePendingStatuses(wamid: string): Promise<StatusUpdate[]> {
    const taken = this.pending.filter((u) => u.wamid === wamid);
    this.pending.splice(0, this.pending.length, ...this.pending.filter((u) => u.wamid !== wamid));
    return taken;
  }

  async appendEvents(events: readonly DomainEvent[]): Promise<void> {
    this.events.push(...events);
  }
}
