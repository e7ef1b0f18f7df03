/**
 * The webhook inbox as the edges write to it: the webhook routes commit each
 * delivery before answering (adapters/postgres inbox-writer.ts groups the
 * commits), and providers that make deliveries themselves (the sandbox's
 * statuses) add theirs. Plus the per-account webhook secrets the routes
 * check signatures with.
 */

export type InboxStatus = "pending" | "malformed";

export interface InboxRow {
  /** UUIDv7: time-ordered, so processing in id order is arrival order. */
  id: string;
  /** Which edge received it: `meta`, `twilio`. */
  provider: string;
  /** Request path; with its query for Twilio (the status callback URL names our message). */
  path: string;
  /** Account id from the path, or phone number id from the payload, when known. */
  accountHint: string | null;
  /** An allow-listed few headers; never credentials or signatures. */
  headers: Record<string, string>;
  /** The exact bytes received. */
  body: Buffer;
  signatureValid: boolean;
  status: InboxStatus;
  /** W3C `traceparent` of the request that received it, when traced: processing continues that trace. */
  traceContext?: string | null;
}

export interface WebhookInbox {
  /** Resolves once the row is committed; rejects with InboxFullError, InboxWriteTimeoutError or another error. */
  write(row: InboxRow, options?: { timeoutMs?: number }): Promise<void>;
}

/** The queue is at its bound: answer 503 so the sender retries later. */
export class InboxFullError extends Error {
  constructor() {
    super("webhook inbox queue is full");
    this.name = "InboxFullError";
  }
}

/** The writer is closed (the process is stopping). */
export class InboxClosedError extends Error {
  constructor() {
    super("webhook inbox writer is closed");
    this.name = "InboxClosedError";
  }
}

/**
 * No commit within the caller's deadline. `maybeStored` is true when the row
 * was already in an INSERT that may still commit: the sender's retry then
 * stores it twice, which downstream deduplication (by wamid) absorbs.
 */
export class InboxWriteTimeoutError extends Error {
  readonly maybeStored: boolean;

  constructor(timeoutMs: number, maybeStored: boolean) {
    super(`webhook inbox write not committed within ${timeoutMs} ms`);
    this.name = "InboxWriteTimeoutError";
    this.maybeStored = maybeStored;
  }
}

/** Deliveries a provider adapter makes itself: trusted (made here), each claimable `afterMs` from now. */
export interface OwnDeliveries {
  write(delivery: { provider: string; accountId: string }, deliveries: readonly { body: string; afterMs: number }[]): Promise<void>;
}

/** What `/webhook/{account_id}` needs to check a delivery for an account with its own Meta app. */
export interface AccountWebhookSecrets {
  accountId: string;
  tenantId: string;
  /** Undefined when the account has no app secret of its own (its deliveries are then refused). */
  appSecret: string | undefined;
  verifyToken: string | undefined;
}

/** What `/webhook/twilio` needs to check a request for a Twilio account. */
export interface TwilioWebhookAccount {
  accountId: string;
  tenantId: string;
  /** The account's Twilio account SID; the request's `AccountSid` must be it. */
  accountSid: string | undefined;
  /** Signs the request (`X-Twilio-Signature`). */
  authToken: string | undefined;
}

/** A Twilio account by its id (`/webhook/twilio/{account_id}`) or by its WhatsApp sender in E.164 (`/webhook/twilio`). */
export type TwilioAccountLookup = { accountId: string } | { senderNumber: string };

export interface WebhookSecrets {
  /** The secrets of a live account; null for an id that is not a UUID, unknown, or deleted. */
  forAccount(accountId: string): Promise<AccountWebhookSecrets | null>;
  /** The live TWILIO account a request names; null when none is (or the id is not a UUID). */
  twilioAccount(by: TwilioAccountLookup): Promise<TwilioWebhookAccount | null>;
}
