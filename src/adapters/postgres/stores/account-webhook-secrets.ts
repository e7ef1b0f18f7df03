import { and, eq, isNull } from "drizzle-orm";

import type { AccountWebhookSecrets, TwilioAccountLookup, TwilioWebhookAccount, WebhookSecrets } from "../../../ports/webhook-inbox.js";
import type { SecretBox } from "../../crypto/secret-box.js";
import type { Database } from "../db/database.js";
import { credentialAssociatedData } from "./account-repository.js";
import { accounts } from "../schema/control.js";
import { findTwilioWebhookAccount } from "./twilio-webhook-account.js";

export type { AccountWebhookSecrets };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The webhook secrets of a live account, looked up by id alone: a webhook
 * arrives before any tenant is known, so this is a control-level read (the
 * account repository is tenant-scoped on purpose and has no such lookup).
 * Null for an id that is not a UUID, unknown, or deleted.
 */
export async function findAccountWebhookSecrets(db: Database, box: SecretBox, accountId: string): Promise<AccountWebhookSecrets | null> {
  if (!UUID.test(accountId)) return null;
  const [row] = await db
    .select({ id: accounts.id, tenantId: accounts.tenantId, credentials: accounts.credentials })
    .from(accounts)
    .where(and(eq(accounts.id, accountId), isNull(accounts.deleteTime)))
    .limit(1);
  if (!row) return null;
  const open = (name: "appSecret" | "verifyToken"): string | undefined => {
    const sealed = row.credentials[name];
    return sealed === undefined ? undefined : box.open(sealed, credentialAssociatedData(row.id, name));
  };
  return { accountId: row.id, tenantId: row.tenantId, appSecret: open("appSecret"), verifyToken: open("verifyToken") };
}

/** The webhook secrets port on PostgreSQL. */
export class PostgresWebhookSecrets implements WebhookSecrets {
  readonly #db: Database;
  readonly #box: SecretBox;

  constructor(db: Database, box: SecretBox) {
    this.#db = db;
    this.#box = box;
  }

  forAccount(accountId: string): Promise<AccountWebhookSecrets | null> {
    return findAccountWebhookSecrets(this.#db, this.#box, accountId);
  }

  twilioAccount(by: TwilioAccountLookup): Promise<TwilioWebhookAccount | null> {
    return findTwilioWebhookAccount(this.#db, this.#box, by);
  }
}
