import type { SendAccount } from "./send-queue.js";
import type { ProviderAccount } from "./whatsapp-provider.js";

/** Opens the sealed credentials of an account the sender claimed (adapters/postgres send-credentials.ts). */
export interface SendCredentials {
  /** The account as its provider needs it, credentials opened; throws when they cannot be opened (other key, tampered). */
  open(account: SendAccount): ProviderAccount;
  /** Drops what is kept of the account's credentials (the provider refused them; the next send reads them again). */
  forget(accountId: string): void;
}
