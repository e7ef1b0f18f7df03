/**
 * A one-time code typed back in the chat (see app/otp/verify-typed-code.ts)
 * verifies the OTP, in the transaction that stores the inbound message: the
 * OTP is marked verified (via `chat`) and one otp.verified event follows the
 * message's own events. A redelivered message is not stored again, so it
 * never verifies twice; neither does a second message with the same code
 * (the OTP is used by then).
 */
import { verifyTypedCode } from "../../app/otp/verify-typed-code.js";
import type { InboundReaction } from "./inbound-reactions.js";
import { PostgresOtpTransaction } from "./otp-store.js";

export function otpTypedBackReaction(options: { codeKey: Buffer }): InboundReaction {
  return async (context, stored) => {
    const otps = new PostgresOtpTransaction(context.tx, context.tenantId, true, (events) => context.emit(events));
    const deps = { codeKey: options.codeKey, newId: context.newId, now: context.now };
    for (const { account, contact, messageId, message } of stored) {
      // Codes go to phone numbers only: a contact without one has none to type back.
      if (message.type !== "text" || contact.waId === "") continue;
      await verifyTypedCode(otps, deps, { tenantId: context.tenantId, accountId: account.id, waId: contact.waId, messageId, text: message.text });
    }
  };
}
