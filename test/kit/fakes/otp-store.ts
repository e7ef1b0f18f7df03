/** OtpStore in memory, sharing its tables (and transaction) with the send path's fake, as the PostgreSQL store does. */
import type { StoredOtp } from "../../../src/domain/otp/otp.js";
import type { OtpStore, OtpTransaction } from "../../../src/ports/otp-store.js";
import type { OutboundTransaction } from "../../../src/ports/outbound-store.js";
import { outboundTransaction } from "./outbound-store.js";
import { TenantTables, type Tables } from "./tenant-tables.js";

export class InMemoryOtpStore implements OtpStore {
  constructor(readonly tables: TenantTables = new TenantTables()) {}

  inTransaction<T>(tenantId: string, work: (otps: OtpTransaction, outbound: OutboundTransaction) => Promise<T>): Promise<T> {
    const known = this.tables.known(tenantId);
    return this.tables.transaction(tenantId, (t) => work(otpTransaction(t, known), outboundTransaction(tenantId, t)));
  }
}

function otpTransaction(t: Tables, tenantKnown: boolean): OtpTransaction {
  const all = () => [...t.otps.values()];
  const latestFirst = (a: StoredOtp, b: StoredOtp) => b.createTime.getTime() - a.createTime.getTime();
  return {
    tenantKnown,
    // One transaction at a time already (TenantTables): nothing to serialise further.
    async lock() {},
    async otpByRequestId(requestId) {
      return all().find((o) => o.requestId === requestId);
    },
    async phoneOfBsuid(bsuid) {
      const contact = [...t.contacts.values()].find((c) => c.userId === bsuid);
      return contact?.waId || undefined;
    },
    async releaseRequestId(otpId) {
      const otp = t.otps.get(otpId);
      if (otp) otp.requestId = undefined;
    },
    async resendAvailableTime(waId) {
      const times = all().filter((o) => o.waId === waId).map((o) => o.resendAvailableTime.getTime());
      return times.length === 0 ? undefined : new Date(Math.max(...times));
    },
    async countSentSince(since, waId) {
      const sent = all().filter((o) => o.createTime >= since && (waId === undefined || o.waId === waId));
      const oldest = sent.map((o) => o.createTime.getTime()).sort((a, b) => a - b)[0];
      return { count: sent.length, oldest: oldest === undefined ? undefined : new Date(oldest) };
    },
    async tenantTemplate() {
      return { name: undefined, language: undefined };
    },
    async approvedTemplateLanguages(wabaId, name) {
      return t.approvedAuthTemplates.get(`${wabaId}/${name}`) ?? [];
    },
    async supersedePending(waId, accountId) {
      for (const otp of all()) if (otp.waId === waId && otp.accountId === accountId && otp.state === "pending") otp.state = "expired";
    },
    async insertOtp(otp) {
      const message = t.messages.get(otp.messageId);
      t.otps.set(otp.id, {
        id: otp.id,
        accountId: otp.accountId,
        contactId: otp.contactId,
        waId: otp.waId,
        messageId: otp.messageId,
        conversationId: message?.conversationId,
        codeHash: otp.codeHash,
        codeSalt: otp.codeSalt,
        codeLength: otp.codeLength,
        state: "pending",
        attempts: 0,
        maxAttempts: otp.maxAttempts,
        requestId: otp.requestId,
        metadata: otp.metadata,
        createTime: otp.createTime,
        expireTime: otp.expireTime,
        resendAvailableTime: otp.resendAvailableTime,
      });
    },
    async lockOtp(otpId) {
      return t.otps.get(otpId);
    },
    async lockLatestOtp(waId, accountId) {
      return all()
        .filter((o) => o.waId === waId && (accountId === undefined || o.accountId === accountId))
        .sort(latestFirst)[0];
    },
    async updateOtp(otpId, change) {
      const otp = t.otps.get(otpId);
      if (otp) Object.assign(otp, change);
    },
    async appendVerified(event) {
      t.otpVerified.push(event);
    },
  };
}
