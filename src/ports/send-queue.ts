/**
 * The queue of claimed sends, shared by every replica (adapters/postgres
 * send-queue.ts implements it on `control.jobs` and `control.send_pacing`):
 * claims hand out paced slots per account, and the circuit breaker of each
 * account lives beside its pacing.
 */
import type { Provider } from "../domain/account.js";
import type { CircuitSettings, CircuitState, SendResultKind } from "../domain/circuit-breaker.js";

export interface ClaimSettings {
  /** Written to `locked_by`. */
  workerId: string;
  /** How long a claimed job is protected; far longer than a send can take. */
  leaseMs: number;
  /** Slots are handed out at most this far ahead; the worker sends each at its slot. */
  horizonMs: number;
  /** Fraction of each account's rate left unused for jitter (domain/token-bucket.ts). */
  headroom: number;
  /** Most jobs one claim takes for one account, and in total. */
  maxPerAccount: number;
  maxTotal: number;
  circuit: CircuitSettings;
}

/** An account as the sender needs it; credentials still sealed. */
export interface SendAccount {
  id: string;
  tenantId: string;
  provider: Provider;
  phoneNumberId: string;
  wabaId: string;
  businessId: string;
  /** E.164. */
  displayPhoneNumber: string;
  rateLimitPerSecond: number;
  sealedCredentials: Record<string, string>;
  /** The account's metadata (Twilio: its template → Content SID mapping). */
  metadata: Record<string, string>;
  /** Changes whenever the account (or its credentials) changes: a cache key. */
  updateTime: number;
}

export interface ClaimedJob {
  jobId: string;
  tenantId: string;
  accountId: string;
  messageId: string;
  /** W3C `traceparent` of the request that queued the send, when traced: the send continues that trace. */
  traceContext?: string | null;
}

/** A message marked `sending` by this claim. */
export interface SendingMessage {
  id: string;
  accountId: string;
  conversationId: string | undefined;
  contactId: string;
  /** WhatsApp id (digits) the send goes to. */
  recipient: string;
  /** E.164 of the recipient, for events. */
  contactPhone: string;
  type: string;
  /** The Graph API message object. */
  content: Record<string, unknown>;
  metadata: Record<string, string>;
  /** Attempts including this one. */
  attemptCount: number;
  idempotencyKey: string | undefined;
}

export interface ClaimedSend {
  job: ClaimedJob;
  account: SendAccount;
  message: SendingMessage;
  /** When to send (this host's epoch ms). */
  slotAt: number;
  /** The circuit breaker's probe: its result closes or re-opens the circuit. */
  probe: boolean;
}

export interface Claim {
  sends: ClaimedSend[];
  /** Jobs whose message was found `sending`: reconcile, never send again. */
  reconciles: { job: ClaimedJob; account: SendAccount }[];
  /** Jobs finished without sending (message gone, already sent or failed, unreadable payload). */
  finished: number;
  /** Accounts that had due jobs and whose pacing row this claim held. */
  accountsSeen: number;
  /** Circuit state per account as this claim left it. */
  circuits: Map<string, CircuitState>;
}

export interface SendQueue {
  /** Creates the pacing row of every live account that has none (new accounts). Cheap; idempotent. */
  ensurePacing(): Promise<void>;
  /** One claim: due sends with their slots, and sends found `sending` (to reconcile, never to send again). */
  claim(settings: ClaimSettings): Promise<Claim>;
  /**
   * Feeds an account's results (in the order they finished) to its shared
   * circuit breaker; `throttled` (130429) also pushes its next slot `pauseMs`
   * out. The circuit as left, or undefined when nothing changed.
   */
  recordCircuitResults(
    accountId: string,
    results: readonly SendResultKind[],
    options: { settings: CircuitSettings; throttled: boolean; pauseMs: number },
  ): Promise<CircuitState | undefined>;
}
