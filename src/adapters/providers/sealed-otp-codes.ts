/**
 * Opens the one-time codes SendOtp sealed into queued messages (see
 * domain/otp/sealed-code.ts) at the last moment: just before a provider
 * sends the message. The database, GetMessage, events and logs only ever
 * hold the sealed form. A sealed value that does not open (another
 * recipient's, a tampered one) is never sent: the send is refused as a
 * permanent error (code 100, like Meta's "Invalid parameter").
 */
import { revealSealedCodes, SEALED_CODE_PREFIX, sealedCodeBinding } from "../../domain/otp/sealed-code.js";
import type { OutboundSend, ProviderAccount, ProviderRegistry, SendOutcome, WhatsAppProvider } from "../../ports/whatsapp-provider.js";
import type { SecretBox } from "../crypto/secret-box.js";

export function revealingOtpCodes(registry: ProviderRegistry, box: SecretBox): ProviderRegistry {
  return {
    forAccount(account: ProviderAccount): WhatsAppProvider {
      const provider = registry.forAccount(account);
      return {
        async send(sender: ProviderAccount, message: OutboundSend, signal?: AbortSignal): Promise<SendOutcome> {
          let body;
          try {
            body = revealSealedCodes(message.body, (sealed) => box.open(sealed, sealedCodeBinding(message.to)));
          } catch {
            const details = "a sealed one-time code in this message could not be opened (wrong recipient or altered)";
            return { kind: "rejected", error: { code: 100, title: "Invalid parameter", details, httpStatus: 400 } };
          }
          return provider.send(sender, body === message.body ? message : { ...message, body }, signal);
        },
        markAsRead: (sender, providerMessageId, typingIndicator, signal) => provider.markAsRead(sender, providerMessageId, typingIndicator, signal),
      };
    },
  };
}

/** Seals a code for a message to `recipientWaId` (the counterpart of revealingOtpCodes). */
export function codeSealer(box: SecretBox): (code: string, recipientWaId: string) => string {
  return (code, recipientWaId) => `${SEALED_CODE_PREFIX}${box.seal(code, sealedCodeBinding(recipientWaId))}`;
}
