import { DomainError } from "../../domain/errors.js";
import type { SendRequest } from "../../domain/outbound/index.js";
import { checkTemplateParameters, HELLO_WORLD, isSendable, type ApprovedContent, type TemplateCategory } from "../../domain/templates/index.js";
import { contentSidFor, contentSidKey } from "../../domain/templates/twilio-content.js";
import type { TemplateStore } from "../../ports/template-store.js";

/**
 * Before a template message is queued: the template exists for the
 * account's WABA in that language, is approved (or an edit of an approved
 * version is under review: the approved content is what is sent), and the
 * parameters fill the approved version exactly. Refused here, the caller
 * learns why at once instead of from a failed status (Meta 132000/132001).
 * Sandbox accounts also have Meta's sample `hello_world` (en_US).
 * Twilio accounts send Content API items, reviewed and held by Twilio, not
 * templates of this service: the template must be mapped to a Content SID
 * in the account's metadata (ADR 0013), and Twilio checks the rest.
 * An account that is not found is left to the send itself to report.
 * Returns the category of the version that will be sent (undefined for
 * anything but a template).
 */
export async function assertTemplateSendable(
  templates: Pick<TemplateStore, "forSend">,
  tenantId: string,
  request: SendRequest,
): Promise<TemplateCategory | undefined> {
  const content = request.content;
  if (content.kind !== "template") return undefined;
  const { account, template } = await templates.forSend(tenantId, request.accountId, content.name, content.language);
  if (!account) return undefined;
  let approved: ApprovedContent | undefined;
  if (template) {
    if (!isSendable(template)) {
      throw new DomainError(
        "failed_precondition",
        "TEMPLATE_NOT_APPROVED",
        `template ${content.name} (${content.language}) is ${template.status}${template.rejectedReason ? ` (${template.rejectedReason})` : ""}: only APPROVED templates can be sent`,
      );
    }
    approved = template.approved;
  } else if (account.provider === "sandbox" && content.name === HELLO_WORLD.name && content.language === HELLO_WORLD.language) {
    approved = HELLO_WORLD;
  } else if (account.provider === "twilio") {
    if (contentSidFor(account.metadata, content.name, content.language) !== undefined) return undefined;
    throw new DomainError(
      "failed_precondition",
      "TEMPLATE_NOT_MAPPED",
      `template ${content.name} (${content.language}) has no Twilio Content SID for this account: set the account's metadata "${contentSidKey(content.name, content.language)}" to its HX… SID`,
    );
  }
  if (!approved) {
    throw new DomainError(
      "failed_precondition",
      "TEMPLATE_NOT_FOUND",
      `template ${content.name} (${content.language}) does not exist for this account's WhatsApp Business Account; create it (CreateTemplate) or sync (SyncTemplates)`,
    );
  }
  const violations = checkTemplateParameters(approved, content);
  if (violations.length > 0) throw DomainError.invalid(violations);
  return approved.category;
}
