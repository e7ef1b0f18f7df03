import { codeInText, codeMatches, isLive } from "../../domain/otp/index.js";
import type { OtpTransaction } from "../../ports/otp-store.js";
import { attempt, type VerifyOtpDeps } from "./verify-otp.js";

export interface TypedMessage {
  tenantId: string;
  accountId: string;
  /** Sender's WhatsApp id. */
  waId: string;
  /** Id of the stored inbound message. */
  messageId: string;
  text: string;
}

/**
 * A user who types the code back in the chat verifies it (method CHAT_REPLY).
 * Only a message that is nothing but a code of the right length is looked
 * at, and only against the latest live OTP sent to that sender from that
 * account. A wrong code typed in the chat is NOT counted as an attempt: the
 * sender is the phone's owner (WhatsApp vouches for it), who has the code
 * anyway, and any number they happen to type (an order number, a PIN for
 * something else) must not lock the OTP the app is about to verify.
 * Returns whether the message verified an OTP.
 */
export async function verifyTypedCode(otps: OtpTransaction, deps: Pick<VerifyOtpDeps, "codeKey" | "newId" | "now">, message: TypedMessage): Promise<boolean> {
  const code = codeInText(message.text);
  if (code === undefined) return false;
  const otp = await otps.lockLatestOtp(message.waId, message.accountId);
  if (!otp || !isLive(otp, deps.now()) || otp.codeLength !== code.length) return false;
  if (!codeMatches(deps.codeKey, otp, code)) return false;
  const result = await attempt(otps, deps, message.tenantId, otp, code, { via: "chat", inboundMessageId: message.messageId });
  return result.outcome === "verified";
}
