import { CREDENTIAL_NAMES, type AccountCredentials } from "../../../domain/account.js";
import type { SendCredentials } from "../../../ports/send-credentials.js";
import type { SendAccount } from "../../../ports/send-queue.js";
import type { ProviderAccount } from "../../../ports/whatsapp-provider.js";
import type { SecretBox } from "../../crypto/secret-box.js";
import { credentialAssociatedData } from "../stores/account-repository.js";

/**
 * Credentials sealed by the account repository, opened once per account
 * version (`updateTime` changes with every update, so a new token is read at
 * the next send).
 */
export class SealedSendCredentials implements SendCredentials {
  readonly #box: SecretBox;
  readonly #cache = new Map<string, { updateTime: number; account: ProviderAccount }>();

  constructor(box: SecretBox) {
    this.#box = box;
  }

  open(account: SendAccount): ProviderAccount {
    const cached = this.#cache.get(account.id);
    if (cached && cached.updateTime === account.updateTime) return cached.account;
    const credentials: AccountCredentials = {};
    for (const name of CREDENTIAL_NAMES) {
      const sealed = account.sealedCredentials[name];
      if (sealed !== undefined) credentials[name] = this.#box.open(sealed, credentialAssociatedData(account.id, name));
    }
    const providerAccount: ProviderAccount = {
      id: account.id,
      tenantId: account.tenantId,
      provider: account.provider,
      phoneNumberId: account.phoneNumberId,
      wabaId: account.wabaId,
      displayPhoneNumber: account.displayPhoneNumber,
      accessToken: credentials.accessToken,
      twilioAccountSid: credentials.twilioAccountSid,
      twilioAuthToken: credentials.twilioAuthToken,
      twilioMessagingServiceSid: credentials.twilioMessagingServiceSid,
      metadata: account.metadata,
    };
    this.#cache.set(account.id, { updateTime: account.updateTime, account: providerAccount });
    return providerAccount;
  }

  forget(accountId: string): void {
    this.#cache.delete(accountId);
  }
}
