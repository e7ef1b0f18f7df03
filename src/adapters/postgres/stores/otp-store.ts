/**
 * The OtpStore port over PostgreSQL: one withTenant transaction holding the
 * OTP row and, through a PostgresOutboundTransaction on the same
 * transaction, the message carrying the code, its send job and events.
 * Locks are transaction-scoped advisory locks (shared by every replica).
 */
import { and, count, desc, eq, isNotNull, isNull, min, or, sql } from "drizzle-orm";

import type { OtpChange, OtpVerified, OtpVerifiedVia, StoredOtp } from "../../../domain/otp/otp.js";
import type { OutboundTransaction } from "../../../ports/outbound-store.js";
import type { NewOtp, OtpStore, OtpTransaction, SendCount } from "../../../ports/otp-store.js";
import type { DomainEvent } from "../../../domain/events.js";
import type { Database, Transaction } from "../db/database.js";
import { PostgresOutboundTransaction } from "./outbound-transaction.js";
import { appendEvents } from "../outbox/outbox.js";
import { contacts, messages, otps, templates, tenantSettings } from "../schema/tenant.js";
import { inCountingTransaction } from "../send/send-transaction.js";
import { tenantExists } from "../db/tenant-scope.js";

export interface OtpStoreOptions {
  newId: () => string;
  /** Called after a commit that wrote events (wakes the outbox relay). */
  onEventsCommitted?: () => void;
  /** Called after a commit that queued send jobs (wakes the sender). */
  onJobsCommitted?: () => void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class PostgresOtpStore implements OtpStore {
  readonly #db: Database;
  readonly #options: OtpStoreOptions;

  constructor(db: Database, options: OtpStoreOptions) {
    this.#db = db;
    this.#options = options;
  }

  inTransaction<T>(tenantId: string, work: (otps: OtpTransaction, outbound: OutboundTransaction) => Promise<T>): Promise<T> {
    return inCountingTransaction(
      this.#db,
      tenantId,
      this.#options,
      async (tx: Transaction) => {
        // Eager: OtpTransaction.tenantKnown is read synchronously by the use cases.
        const known = await tenantExists(tx, tenantId);
        const outbound = new PostgresOutboundTransaction(tx, tenantId, known, this.#options.newId);
        let own = 0;
        const otpTx = new PostgresOtpTransaction(tx, tenantId, known, async (written) => {
          await appendEvents(tx, written);
          own += written.length;
        });
        return {
          otpTx,
          outbound,
          // The OTP's own events (otp.verified) count beside the outbound transaction's.
          get written() {
            return { events: own + outbound.written.events, jobs: outbound.written.jobs };
          },
        };
      },
      ({ otpTx, outbound }) => work(otpTx, outbound),
    );
  }
}

/** One tenant's OTP rows inside a transaction whose search_path is the tenant's schema. */
export class PostgresOtpTransaction implements OtpTransaction {
  readonly #tx: Database;
  readonly #tenantId: string;
  readonly tenantKnown: boolean;
  readonly #emit: (events: readonly DomainEvent[]) => Promise<void>;

  constructor(tx: Database, tenantId: string, tenantKnown: boolean, emit: (events: readonly DomainEvent[]) => Promise<void>) {
    this.#tx = tx;
    this.#tenantId = tenantId;
    this.tenantKnown = tenantKnown;
    this.#emit = emit;
  }

  async lock(key: string): Promise<void> {
    // Scoped by tenant: two tenants never wait on each other.
    await this.#tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`otp:${this.#tenantId}:${key}`}, 0))`);
  }

  async otpByRequestId(requestId: string): Promise<StoredOtp | undefined> {
    const [row] = await selectOtps(this.#tx).where(eq(otps.requestId, requestId)).limit(1);
    return row && otpFromRow(row);
  }

  async phoneOfBsuid(bsuid: string): Promise<string | undefined> {
    const [row] = await this.#tx.select({ waId: contacts.waId }).from(contacts).where(eq(contacts.bsuid, bsuid)).limit(1);
    return row?.waId ?? undefined;
  }

  async releaseRequestId(otpId: string): Promise<void> {
    await this.#tx.update(otps).set({ requestId: null }).where(eq(otps.id, otpId));
  }

  async resendAvailableTime(waId: string): Promise<Date | undefined> {
    const [row] = await this.#tx
      .select({ at: otps.resendAvailableTime })
      .from(otps)
      .where(eq(otps.waId, waId))
      .orderBy(desc(otps.createTime))
      .limit(1);
    return row?.at;
  }

  async countSentSince(since: Date, waId?: string): Promise<SendCount> {
    const recent = sql`${otps.createTime} > ${since.toISOString()}::timestamptz`;
    const [row] = await this.#tx
      .select({ count: count(), oldest: min(otps.createTime) })
      .from(otps)
      .where(waId === undefined ? recent : and(eq(otps.waId, waId), recent));
    return { count: row?.count ?? 0, oldest: row?.oldest ? new Date(row.oldest) : undefined };
  }

  async tenantTemplate(): Promise<{ name: string | undefined; language: string | undefined }> {
    const [row] = await this.#tx
      .select({ name: tenantSettings.otpTemplateName, language: tenantSettings.otpTemplateLanguage })
      .from(tenantSettings)
      .where(eq(tenantSettings.id, 1));
    return { name: row?.name || undefined, language: row?.language || undefined };
  }

  async approvedTemplateLanguages(wabaId: string, name: string): Promise<string[]> {
    const rows = await this.#tx
      .selectDistinct({ language: templates.language })
      .from(templates)
      .where(
        and(
          eq(templates.wabaId, wabaId),
          eq(templates.name, name),
          eq(templates.category, "AUTHENTICATION"),
          // Approved now, or an edit under review with an approved version still in use.
          or(eq(templates.status, "APPROVED"), isNotNull(templates.approvedVersion)),
          isNull(templates.deleteTime),
        ),
      )
      .orderBy(templates.language);
    return rows.map((r) => r.language);
  }

  async supersedePending(waId: string, accountId: string): Promise<void> {
    await this.#tx
      .update(otps)
      .set({ state: "expired" })
      .where(and(eq(otps.waId, waId), eq(otps.accountId, accountId), eq(otps.state, "pending")));
  }

  async insertOtp(otp: NewOtp): Promise<void> {
    await this.#tx.insert(otps).values({
      id: otp.id,
      accountId: otp.accountId,
      contactId: otp.contactId,
      waId: otp.waId,
      messageId: otp.messageId,
      codeHash: otp.codeHash,
      codeSalt: otp.codeSalt,
      codeLength: otp.codeLength,
      state: "pending",
      attempts: 0,
      maxAttempts: otp.maxAttempts,
      requestId: otp.requestId ?? null,
      templateName: otp.templateName,
      templateLanguage: otp.templateLanguage,
      metadata: otp.metadata,
      createTime: otp.createTime,
      expireTime: otp.expireTime,
      resendAvailableTime: otp.resendAvailableTime,
    });
  }

  async lockOtp(otpId: string): Promise<StoredOtp | undefined> {
    if (!UUID.test(otpId)) return undefined;
    const [row] = await selectOtps(this.#tx).where(eq(otps.id, otpId)).limit(1).for("update", { of: otps });
    return row && otpFromRow(row);
  }

  async lockLatestOtp(waId: string, accountId: string | undefined): Promise<StoredOtp | undefined> {
    const where = accountId === undefined ? eq(otps.waId, waId) : and(eq(otps.waId, waId), eq(otps.accountId, accountId));
    const [row] = await selectOtps(this.#tx)
      .where(where)
      .orderBy(desc(otps.createTime), desc(otps.id))
      .limit(1)
      .for("update", { of: otps });
    return row && otpFromRow(row);
  }

  async updateOtp(otpId: string, change: OtpChange, verified: { at: Date; via: OtpVerifiedVia } | undefined): Promise<void> {
    await this.#tx
      .update(otps)
      .set({ state: change.state, attempts: change.attempts, ...(verified ? { verifyTime: verified.at, verifiedVia: verified.via } : {}) })
      .where(eq(otps.id, otpId));
  }

  async appendVerified(event: OtpVerified): Promise<void> {
    await this.#emit([{ ...event, kind: "otp.verified" }]);
  }
}

function selectOtps(tx: Database) {
  return tx
    .select({ otp: otps, conversationId: messages.conversationId })
    .from(otps)
    .leftJoin(messages, eq(messages.id, otps.messageId))
    .$dynamic();
}

function otpFromRow({ otp, conversationId }: { otp: typeof otps.$inferSelect; conversationId: string | null }): StoredOtp {
  return {
    id: otp.id,
    accountId: otp.accountId,
    contactId: otp.contactId ?? undefined,
    waId: otp.waId,
    messageId: otp.messageId ?? undefined,
    conversationId: conversationId ?? undefined,
    codeHash: otp.codeHash,
    codeSalt: otp.codeSalt,
    codeLength: otp.codeLength,
    state: otp.state,
    attempts: otp.attempts,
    maxAttempts: otp.maxAttempts,
    requestId: otp.requestId ?? undefined,
    metadata: otp.metadata,
    createTime: otp.createTime,
    expireTime: otp.expireTime,
    resendAvailableTime: otp.resendAvailableTime,
  };
}

