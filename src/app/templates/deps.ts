import type { Account } from "../../domain/account.js";
import { DomainError } from "../../domain/errors.js";
import type { AccountRepository } from "../../ports/account-repository.js";
import type { ProviderCall, TemplateProviders } from "../../ports/template-provider.js";
import type { TemplateAccount, TemplateStore } from "../../ports/template-store.js";
import type { ProviderAccount } from "../../ports/whatsapp-provider.js";

export interface TemplateDeps {
  templates: TemplateStore;
  accounts: AccountRepository;
  templateProviders: TemplateProviders;
  newId: () => string;
  now: () => Date;
}

/** The tenant's live account, ready for its provider's template API. */
export async function accountForTemplates(
  deps: Pick<TemplateDeps, "accounts">,
  tenantId: string,
  accountId: string,
  field: string,
): Promise<{ account: Account; ref: TemplateAccount; provider: ProviderAccount }> {
  const account = await deps.accounts.get(tenantId, accountId);
  if (!account) throw DomainError.notFound("account", accountId);
  if (account.provider === "meta" && account.wabaId === "") {
    throw new DomainError("failed_precondition", "ACCOUNT_WITHOUT_WABA", `account ${accountId} has no waba_id: templates live under a WhatsApp Business Account; set it with UpdateAccount`, {
      violations: [{ field, description: "names an account without waba_id" }],
    });
  }
  const credentials = (await deps.accounts.getCredentials(tenantId, accountId)) ?? {};
  return {
    account,
    ref: { id: account.id, tenantId, provider: account.provider, wabaId: account.wabaId },
    provider: {
      id: account.id,
      tenantId,
      provider: account.provider,
      phoneNumberId: account.phoneNumberId,
      wabaId: account.wabaId,
      displayPhoneNumber: account.displayPhoneNumber,
      ...(credentials.accessToken ? { accessToken: credentials.accessToken } : {}),
    },
  };
}

/** Meta's "Invalid parameter": the request's content is what it refused (template errors 2388xxx come with it). */
const META_INVALID_PARAMETER = 100;

/**
 * A provider call that did not succeed → the caller's error (the provider's
 * message; never a credential): no answer → Unavailable (try again); a
 * refusal → FailedPrecondition, or InvalidArgument on `contentField` when the
 * provider refused the content itself (Meta #100), so the caller fixes it.
 */
export function providerFailure(call: Extract<ProviderCall<unknown>, { ok: false }>, what: string, contentField?: string): DomainError {
  const said = `${call.error.title}${call.error.code ? ` (#${call.error.code})` : ""}${call.error.details && call.error.details !== call.error.title ? `: ${call.error.details}` : ""}`;
  if (call.kind === "unavailable") {
    return new DomainError("unavailable", "PROVIDER_UNAVAILABLE", `${what}: the provider did not answer (${said}); try again`);
  }
  const message = `${what}: the provider refused it — ${said}`;
  if (contentField !== undefined && call.error.code === META_INVALID_PARAMETER) {
    return new DomainError("invalid_argument", "PROVIDER_REFUSED", message, { violations: [{ field: contentField, description: `refused by the provider: ${said}` }] });
  }
  return new DomainError("failed_precondition", "PROVIDER_REFUSED", message);
}
