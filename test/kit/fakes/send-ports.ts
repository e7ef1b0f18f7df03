/**
 * In-memory fakes of the ports the send delivery use case runs over
 * (app/messaging/deliver-send.ts): the provider answers as scripted, the
 * send queue keeps each account's circuit in memory with the domain's rules,
 * the results are kept as recorded.
 */
import { CLOSED_CIRCUIT, recordResults, type CircuitSettings, type CircuitState, type SendResultKind } from "../../../src/domain/circuit-breaker.js";
import type { Log } from "../../../src/ports/log.js";
import type { SendCredentials } from "../../../src/ports/send-credentials.js";
import type { Claim, ClaimedSend, ClaimSettings, SendAccount, SendQueue } from "../../../src/ports/send-queue.js";
import type { ApplyEarlyStatuses, ReconcileOutcome, ReconcileSettings, SendResult, SendResults } from "../../../src/ports/send-results.js";
import type { OutboundSend, ProviderAccount, ProviderRegistry, SendOutcome, WhatsAppProvider } from "../../../src/ports/whatsapp-provider.js";

/** A provider whose answers are scripted per send (the next answer, or a function of the send). */
export class FakeProvider implements ProviderRegistry, WhatsAppProvider {
  readonly sends: { account: ProviderAccount; message: OutboundSend }[] = [];
  #answers: (SendOutcome | Error)[] = [];

  answer(...answers: (SendOutcome | Error)[]): this {
    this.#answers.push(...answers);
    return this;
  }

  forAccount(): WhatsAppProvider {
    return this;
  }

  async send(account: ProviderAccount, message: OutboundSend): Promise<SendOutcome> {
    this.sends.push({ account, message });
    const next = this.#answers.shift() ?? { kind: "accepted", providerMessageId: `wamid.${this.sends.length}` };
    if (next instanceof Error) throw next;
    return next;
  }

  async markAsRead(): Promise<SendOutcome> {
    return { kind: "accepted", providerMessageId: "" };
  }
}

/** Credentials "opened" by copying the sealed values; `unreadable` makes opening throw. */
export class FakeSendCredentials implements SendCredentials {
  readonly forgotten: string[] = [];
  unreadable = false;

  open(account: SendAccount): ProviderAccount {
    if (this.unreadable) throw new Error("unsupported state or unable to authenticate data");
    return {
      id: account.id,
      tenantId: account.tenantId,
      provider: account.provider,
      phoneNumberId: account.phoneNumberId,
      wabaId: account.wabaId,
      displayPhoneNumber: account.displayPhoneNumber,
      accessToken: account.sealedCredentials.accessToken,
    };
  }

  forget(accountId: string): void {
    this.forgotten.push(accountId);
  }
}

/** Circuits in memory, moved by the domain's breaker on a settable clock; no claims (the use case does not claim). */
export class FakeSendQueue implements SendQueue {
  readonly circuits = new Map<string, CircuitState>();
  readonly throttledAccounts: string[] = [];
  nowMs = 1_000_000;

  async ensurePacing(): Promise<void> {}

  async claim(_settings: ClaimSettings): Promise<Claim> {
    return { sends: [], reconciles: [], finished: 0, accountsSeen: 0, circuits: new Map() };
  }

  async recordCircuitResults(
    accountId: string,
    results: readonly SendResultKind[],
    options: { settings: CircuitSettings; throttled: boolean; pauseMs: number },
  ): Promise<CircuitState | undefined> {
    if (options.throttled) this.throttledAccounts.push(accountId);
    const next = recordResults(this.circuits.get(accountId) ?? CLOSED_CIRCUIT, results, this.nowMs, options.settings);
    this.circuits.set(accountId, next);
    return next;
  }
}

/** Results kept per tenant as recorded; `failTenants` makes a tenant's transaction fail. */
export class FakeSendResults implements SendResults {
  readonly recorded = new Map<string, SendResult[]>();
  readonly failTenants = new Set<string>();

  /** Counts one event per sent or failed message, as the store writes them. */
  async record(tenantId: string, results: readonly SendResult[], _applyEarly: ApplyEarlyStatuses): Promise<number> {
    if (this.failTenants.has(tenantId)) throw new Error(`tenant ${tenantId}: connection terminated`);
    this.recorded.set(tenantId, [...(this.recorded.get(tenantId) ?? []), ...results]);
    return results.filter((r) => r.kind === "sent" || r.kind === "failed").length;
  }

  async reconcile(
    _item: { jobId: string; tenantId: string; messageId: string; account: SendAccount },
    _settings: ReconcileSettings,
    _applyEarly: ApplyEarlyStatuses,
  ): Promise<{ outcome: ReconcileOutcome; events: number }> {
    return { outcome: "waiting", events: 0 };
  }

  all(): SendResult[] {
    return [...this.recorded.values()].flat();
  }
}

/** A log that keeps its lines, to assert what was said. */
export class MemoryLog implements Log {
  readonly lines: { level: string; msg: string; obj: Record<string, unknown> }[] = [];
  debug(obj: Record<string, unknown>, msg: string): void {
    this.lines.push({ level: "debug", msg, obj });
  }
  info(obj: Record<string, unknown>, msg: string): void {
    this.lines.push({ level: "info", msg, obj });
  }
  warn(obj: Record<string, unknown>, msg: string): void {
    this.lines.push({ level: "warn", msg, obj });
  }
  error(obj: Record<string, unknown>, msg: string): void {
    this.lines.push({ level: "error", msg, obj });
  }
}

let sequence = 0;

/** A claimed send of a fresh message (attempt `attemptCount`) for `account`. */
export function claimedSend(account: Partial<SendAccount> = {}, attemptCount = 1): ClaimedSend {
  sequence += 1;
  const full: SendAccount = {
    id: "00000000-0000-7000-8000-0000000000a1",
    tenantId: "acme",
    provider: "meta",
    phoneNumberId: "1000",
    wabaId: "2000",
    businessId: "3000",
    displayPhoneNumber: "+15550001000",
    rateLimitPerSecond: 80,
    sealedCredentials: { accessToken: "token-1" },
    metadata: {},
    updateTime: 1,
    ...account,
  };
  const messageId = `00000000-0000-7000-8000-${String(sequence).padStart(12, "0")}`;
  return {
    job: { jobId: `job-${sequence}`, tenantId: full.tenantId, accountId: full.id, messageId },
    account: full,
    message: {
      id: messageId,
      accountId: full.id,
      conversationId: undefined,
      contactId: "00000000-0000-7000-8000-0000000000c1",
      recipient: "15551234567",
      contactPhone: "+15551234567",
      type: "text",
      content: { text: { body: "hello" } },
      metadata: {},
      attemptCount,
      idempotencyKey: undefined,
    },
    slotAt: 0,
    probe: false,
  };
}
