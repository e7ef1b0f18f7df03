import type { TemplateCategory, TemplateComponents, TemplateContent, TemplateStatus } from "../domain/templates/index.js";
import type { ProviderAccount, ProviderError } from "./whatsapp-provider.js";

/**
 * The provider's template management (Meta: `/{waba_id}/message_templates`,
 * reference §8). Calls answer a result instead of throwing: a refusal
 * (`rejected`, the provider said no) is told apart from no answer
 * (`unavailable`: it may or may not have happened).
 */
export type ProviderCall<T> = { ok: true; value: T } | { ok: false; kind: "rejected" | "unavailable"; error: ProviderError };

export interface TemplateSubmission {
  /** The provider's template id. */
  id: string;
  status: TemplateStatus;
  category: TemplateCategory | undefined;
}

/** A template as the provider lists it. */
export interface RemoteTemplate {
  id: string;
  name: string;
  language: string;
  status: TemplateStatus;
  category: TemplateCategory;
  content: Omit<TemplateContent, "category">;
  /** Rejection reason, "" when none. */
  rejectedReason: string;
  /** e.g. GREEN, YELLOW, RED, UNKNOWN; "" when not given. */
  qualityScore: string;
}

/** What an edit changes at the provider. */
export type TemplateEditPart = "category" | "components";

export interface NewProviderTemplate extends TemplateContent {
  name: string;
  language: string;
}

export interface TemplateProvider {
  create(account: ProviderAccount, template: NewProviderTemplate): Promise<ProviderCall<TemplateSubmission>>;
  /**
   * Edits a submitted template: `parts` says what changed — the category,
   * and/or the components (replaced whole, with parameter format and TTL).
   * Meta takes each in its own call. Default: both.
   */
  edit(account: ProviderAccount, providerTemplateId: string, template: NewProviderTemplate, parts?: readonly TemplateEditPart[]): Promise<ProviderCall<void>>;
  /** Deletes one language of the template (by name and provider id). */
  delete(account: ProviderAccount, name: string, providerTemplateId: string): Promise<ProviderCall<void>>;
  /** Every template of the account's WABA (all pages); undefined when the provider keeps no catalog of its own (sandbox). */
  list(account: ProviderAccount): Promise<ProviderCall<RemoteTemplate[]> | undefined>;
}

export interface TemplateProviders {
  forAccount(account: ProviderAccount): TemplateProvider;
}

export type { TemplateComponents };
