import { DomainError } from "../../domain/errors.js";
import type { AccountRepository } from "../../ports/account-repository.js";
import type { OutboundStore } from "../../ports/outbound-store.js";
import type { ProviderAccount, ProviderRegistry } from "../../ports/whatsapp-provider.js";

export interface MarkAsReadDeps {
  outbound: OutboundStore;
  accounts: AccountRepository;
  providers: ProviderRegistry;
  now: () => Date;
}

/**
 * Marks an inbound message read on WhatsApp (blue ticks; WhatsApp also marks
 * the earlier messages of the chat), optionally showing "typing…". Once the
 * provider accepted, the message and the earlier unread inbound messages of
 * its conversation are recorded as read.
 */
export async function markAsRead(deps: MarkAsReadDeps, tenantId: string, messageId: string, typingIndicator: boolean): Promise<void> {
  const message = await deps.outbound.getMessage(tenantId, messageId);
  if (!message) throw DomainError.notFound("message", messageId);
  if (message.direction !== "inbound") {
    throw new DomainError("failed_precondition", "NOT_INBOUND", `message ${messageId} is outbound; only inbound messages can be marked read`);
  }
  if (!message.wamid) throw new DomainError("failed_precondition", "NO_PROVIDER_ID", `message ${messageId} has no WhatsApp id`);

  const account = await providerAccount(deps.accounts, tenantId, message.accountId);
  const outcome = await deps.providers.forAccount(account).markAsRead(account, message.wamid, typingIndicator);
  if (outcome.kind !== "accepted") {
    const { error } = outcome;
    // No (clear) answer or a server error: the caller may try again; anything else is the provider's "no".
    const transient = outcome.kind === "unknown" || error.httpStatus === 0 || error.httpStatus >= 500 || error.httpStatus === 429;
    throw new DomainError(
      transient ? "unavailable" : "failed_precondition",
      "PROVIDER_REJECTED",
      `the provider did not mark the message read: ${error.code ? `(#${error.code}) ` : ""}${error.title}`,
    );
  }
  await deps.outbound.recordRead(tenantId, messageId, deps.now());
}

async function providerAccount(accounts: AccountRepository, tenantId: string, accountId: string): Promise<ProviderAccount> {
  const account = await accounts.get(tenantId, accountId);
  const credentials = account && (await accounts.getCredentials(tenantId, accountId));
  if (!account || !credentials) {
    throw new DomainError("failed_precondition", "ACCOUNT_UNAVAILABLE", `account ${accountId} of the message is deleted`);
  }
  return {
    id: account.id,
    tenantId,
    provider: account.provider,
    phoneNumberId: account.phoneNumberId,
    wabaId: account.wabaId,
    accessToken: credentials.accessToken,
    twilioAccountSid: credentials.twilioAccountSid,
    twilioAuthToken: credentials.twilioAuthToken,
    displayPhoneNumber: account.displayPhoneNumber,
  };
}
