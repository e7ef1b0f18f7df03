import { and, eq, isNull } from "drizzle-orm";

import type { SecretBox } from "../crypto/secret-box.js";
import type { Database } from "./database.js";
import { credentialAssociatedData } from "./account-repository.js";
import { accounts } from "./schema/control.js";

/** What `/webhook/{account_id}` needs to check a delivery for an account with its own Meta app. */
export interface AccountWebhookSecrets {
  accountId: string;
  tenantId: string;
  /** Undefined when the account has no app secret of its own (its deliveries are then refused). */
  appSecret: string | undefined;
  verifyToken: string | undefined;
}

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
