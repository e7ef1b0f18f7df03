import type { Provider } from "../domain/account.js";
import type { Template, TemplateCategory, TemplateContent, TemplateStatus } from "../domain/templates/index.js";
import type { RemoteTemplate } from "./template-provider.js";

/** The account a template belongs to, as template work needs it. */
export interface TemplateAccount {
  id: string;
  tenantId: string;
  provider: Provider;
  wabaId: string;
  /** The account's metadata, when the store read it (forSend, for Twilio accounts: their Content SID mapping). */
  metadata?: Readonly<Record<string, string>>;
}

export interface NewTemplate extends TemplateContent {
  id: string;
  account: TemplateAccount;
  name: string;
  language: string;
}

export interface TemplateQuery {
  pageSize: number;
  /** Opaque cursor of a previous page; "" for the first. */
  pageToken: string;
  accountId?: string;
  name?: string;
  language?: string;
  category?: TemplateCategory;
  status?: TemplateStatus;
}

export interface TemplatePage {
  templates: Template[];
  nextPageToken: string;
}

export interface SyncCounts {
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
}

/**
 * Templates of one tenant (its own schema). Another tenant's ids are not
 * found. Status changes that come from the provider (sync) write their
 * `template.status` events in the same transaction.
 */
export interface TemplateStore {
  /**
   * Stores a new template as DRAFT, version 1. When a live template of that
   * WABA, name and language exists: a DRAFT is taken over (its content
   * replaced) and returned with `created: false`; anything else is returned
   * as `conflict`.
   */
  insertDraft(tenantId: string, template: NewTemplate, now: Date): Promise<{ template: Template; outcome: "created" | "draft_reused" | "conflict" }>;
  get(tenantId: string, id: string): Promise<Template | undefined>;
  /** The live template of the account's WABA by name and language. */
  find(tenantId: string, account: TemplateAccount, name: string, language: string): Promise<Template | undefined>;
  /** The live account (of this tenant) and its template, for a send. */
  forSend(tenantId: string, accountId: string, name: string, language: string): Promise<{ account?: TemplateAccount; template?: Template }>;
  list(tenantId: string, query: TemplateQuery): Promise<TemplatePage>;
  /** The provider took the submission: its id, and the status it gave (applied only while still DRAFT). */
  recordSubmission(tenantId: string, id: string, submission: { providerId: string; status: TemplateStatus; category?: TemplateCategory }, now: Date): Promise<Template>;
  /** Forgets a draft the provider refused (it was never anything else). */
  removeDraft(tenantId: string, id: string): Promise<void>;
  /** An accepted edit: a new version with this content, back in review (`status`). */
  recordEdit(tenantId: string, id: string, content: TemplateContent, status: TemplateStatus, now: Date): Promise<Template>;
  /** Deleted here (and at the provider): status DELETED, no longer live; a template.status DELETED event in the same transaction (none for a draft Meta never saw). */
  markDeleted(tenantId: string, id: string, now: Date): Promise<void>;
  /** Reconciles the account's templates with the provider's list, events included; one transaction. */
  reconcile(tenantId: string, account: TemplateAccount, remote: readonly RemoteTemplate[], now: Date): Promise<SyncCounts>;
}
