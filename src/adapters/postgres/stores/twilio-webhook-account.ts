import { and, eq, isNull } from "drizzle-orm";

import type { TwilioAccountLookup, TwilioWebhookAccount } from "../../../ports/webhook-inbox.js";
import type { SecretBox } from "../../crypto/secret-box.js";
import type { Database } from "../db/database.js";
import { credentialAssociatedData } from "./account-repository.js";
import { accounts } from "../schema/control.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The live TWILIO account a webhook request is for, before any tenant is
 * known (a control-level read, like account-webhook-secrets.ts): by id on
 * `/webhook/twilio/{account_id}`, or by its WhatsApp sender (the account's
 * phone number id, unique per provider) on `/webhook/twilio`. The caller
 * compares the request's `AccountSid` with the account's before trusting
 * anything: the sender number alone is not proof.
 */
export async function findTwilioWebhookAccount(
  db: Database,
  box: SecretBox,
  by: TwilioAccountLookup,
): Promise<TwilioWebhookAccount | null> {
  if ("accountId" in by && !UUID.test(by.accountId)) return null;
  const where =
    "accountId" in by
      ? and(eq(accounts.id, by.accountId), eq(accounts.provider, "twilio"), isNull(accounts.deleteTime))
      : and(eq(accounts.provider, "twilio"), eq(accounts.phoneNumberId, by.senderNumber), isNull(accounts.deleteTime));
  const [row] = await db.select({ id: accounts.id, tenantId: accounts.tenantId, credentials: accounts.credentials }).from(accounts).where(where).limit(1);
  if (!row) return null;
  const open = (name: "twilioAccountSid" | "twilioAuthToken"): string | undefined => {
    const sealed = row.credentials[name];
    return sealed === undefined ? undefined : box.open(sealed, credentialAssociatedData(row.id, name));
  };
  return { accountId: row.id, tenantId: row.tenantId, accountSid: open("twilioAccountSid"), authToken: open("twilioAuthToken") };
}
