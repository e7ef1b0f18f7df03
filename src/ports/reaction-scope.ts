/**
 * What the inbound reactions (app/inbound-reactions.ts) may do, bound to the
 * transaction that stores the inbound messages or update they react to, in
 * the tenant's schema: their changes and events commit (or roll back) with
 * what they react to. Events they cause follow the messages' own events.
 */
import type { StoredConversationSettings } from "../domain/conversations/settings.js";
import type { Provider } from "../domain/account.js";
import type { ProviderView } from "../domain/templates/index.js";
import type { OtpTransaction } from "./otp-store.js";

/** A template named by a provider update, and what the provider now says about it. */
export interface TemplateUpdateTarget {
  provider: Provider;
  wabaId: string;
  /** The tenant's account the update names, when it names one. */
  accountId: string | undefined;
  /** The provider's template id ("" when the update names the template by name and language only). */
  templateId: string;
  name: string;
  language: string;
  /** The provider's event name (`APPROVED`, `QUALITY_UPDATE`…). */
  event: string;
  view: ProviderView;
}

export interface ReactionScope {
  readonly tenantId: string;
  conversationSettings(): Promise<StoredConversationSettings>;
  /** Sets the contacts' marketing opt-out (only where it changes). */
  setOptedOut(contactIds: readonly string[], optedOut: boolean): Promise<void>;
  setOptedOutByWaId(waIds: readonly string[], optedOut: boolean): Promise<void>;
  /** The tenant's one-time codes, in this transaction. */
  otps(): OtpTransaction;
  /** Applies the provider's view to the template it names, if the tenant has it (a template.status event when its status moves). */
  applyTemplateUpdate(target: TemplateUpdateTarget): Promise<void>;
}
