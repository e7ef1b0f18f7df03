/**
 * A one-time code whose message failed (Meta refused it, or a status webhook
 * reported it failed) can never be received: its OTP is voided (`failed`,
 * VerifyOtp answers EXPIRED) and its resend cooldown lifted, so the user can
 * ask for a new code at once instead of waiting for one that will not come.
 * Runs in the transaction that records the failure, in the tenant's schema.
 * A message whose outcome is only unknown (it may have been delivered) does
 * not void its code.
 */
import type { Database } from "../db/database.js";
import { hot, preparedRows } from "../db/prepared-query.js";

export async function voidOtpsOfFailedMessages(tx: Database, messageIds: readonly string[]): Promise<void> {
  if (messageIds.length === 0) return;
  await preparedRows(
    tx,
    hot`update otps set state = 'failed', resend_available_time = least(resend_available_time, now())
         where message_id = any(${messageIds}::uuid[]) and state = 'pending'
     returning id`,
  );
}
