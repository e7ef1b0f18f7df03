import type { Provider } from "../../../domain/account.js";
import type { AccountRef } from "../../../domain/inbound-events.js";
import type { DomainEvent } from "../../../domain/events.js";
import type { Database } from "../db/database.js";
import { hot, preparedRows } from "../db/prepared-query.js";
import { appendEvents } from "../outbox/outbox.js";
import { accountFromReturned, ACCOUNT_RETURNED, type AccountReturned } from "../db/returned-rows.js";
import { accounts } from "../schema/control.js";

/**
 * What the deliveries applied in ONE transaction share, to save round trips:
 * each repeated account lookup, each `SET LOCAL search_path` to the tenant
 * already in scope, and one outbox INSERT for all their events instead of
 * one per change. Bound to that transaction: a rolled-back transaction takes
 * its batch with it (nothing here outlives it).
 */
export class TransactionBatch {
  readonly accountsByNumber = new Map<string, Promise<AccountRef | undefined>>();
  readonly accountsByWaba = new Map<string, Promise<AccountRef[]>>();
  /** The tenant schema the transaction's search_path points at. */
  schema: string | undefined;
  readonly #events: DomainEvent[] = [];

  /**
   * Looks up the accounts of every (provider, phone number id) at once, in ONE
   * statement; later `accountByPhoneNumberId` calls of the transaction take
   * their answers from it. Issue it beside another independent statement
   * (the driver pipelines them: one round trip for both).
   */
  prefetchAccounts(tx: Database, numbers: readonly { provider: Provider; phoneNumberId: string }[]): Promise<void> {
    const wanted = new Map<string, { provider: Provider; phoneNumberId: string }>();
    for (const n of numbers) {
      const key = numberKey(n.provider, n.phoneNumberId);
      if (n.phoneNumberId !== "" && !this.accountsByNumber.has(key)) wanted.set(key, n);
    }
    if (wanted.size === 0) return Promise.resolve();
    const list = [...wanted.values()];
    const rows = preparedRows<AccountReturned>(
      tx,
      hot`select ${ACCOUNT_RETURNED} from ${accounts}
           where (provider, phone_number_id) in (select * from unnest(${list.map((n) => n.provider)}::text[], ${list.map((n) => n.phoneNumberId)}::text[]))
             and delete_time is null
           order by create_time, id`,
    );
    for (const [key, n] of wanted) {
      const found = rows.then((all) => {
        const row = all.find((r) => r.provider === n.provider && r.phone_number_id === n.phoneNumberId);
        return row && accountFromReturned(row);
      });
      // Awaited by whoever asks for this number; a failure also fails the statement below.
      found.catch(() => {});
      this.accountsByNumber.set(key, found);
    }
    return rows.then(() => undefined);
  }

  /** Keeps events for the outbox, in order (encoded as they are written, by the outbox). */
  add(events: readonly DomainEvent[]): void {
    this.#events.push(...events);
  }

  /** Writes the kept events to the outbox in one INSERT; call it last in the transaction. Returns how many. */
  async flush(tx: Database): Promise<number> {
    const events = this.#events.splice(0);
    await appendEvents(tx, events);
    return events.length;
  }
}

export function numberKey(provider: Provider, phoneNumberId: string): string {
  return `${provider}\u0000${phoneNumberId}`;
}
