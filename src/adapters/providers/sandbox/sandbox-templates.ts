/**
 * Template management of the SANDBOX provider: every template submitted is
 * approved at once — reported the way Meta reports it, as a
 * `message_template_status_update` webhook written into the inbox (like the
 * sandbox's message statuses), so approval takes the real path: the inbox
 * worker, the status reaction, the `template.status` event. The sandbox
 * keeps no catalog of its own: there is nothing to sync from it.
 */
import { randomInt, randomUUID } from "node:crypto";

import type { NewProviderTemplate, ProviderCall, RemoteTemplate, TemplateProvider, TemplateSubmission } from "../../../ports/template-provider.js";
import type { ProviderAccount } from "../../../ports/whatsapp-provider.js";
import type { OwnDeliveries } from "../../../ports/webhook-inbox.js";
import type { Wakeup } from "../../shared/wakeup.js";
import { writeSandboxDeliveries } from "./sandbox-provider.js";

/** How long after an edit the sandbox approves it. */
const EDIT_APPROVAL_DELAY_MS = 1_000;

export interface SandboxTemplatesOptions {
  inbox: OwnDeliveries;
  inboxWakeup?: Wakeup;
}

export class SandboxTemplates implements TemplateProvider {
  readonly #inbox: OwnDeliveries;
  readonly #wakeup: Wakeup | undefined;

  constructor(options: SandboxTemplatesOptions) {
    this.#inbox = options.inbox;
    this.#wakeup = options.inboxWakeup;
  }

  async create(account: ProviderAccount, template: NewProviderTemplate): Promise<ProviderCall<TemplateSubmission>> {
    const id = `9${randomInt(10 ** 11, 10 ** 12 - 1)}${randomInt(1000, 9999)}`;
    await this.#approve(account, id, template);
    return { ok: true, value: { id, status: "PENDING", category: template.category } };
  }

  async edit(account: ProviderAccount, providerTemplateId: string, template: NewProviderTemplate): Promise<ProviderCall<void>> {
    // The edit is recorded (PENDING, a new version) only after this answers; an approval applied
    // before that would find the old version APPROVED and change nothing, leaving the edit PENDING
    // for good. So it arrives a moment later, as Meta's review does.
    await this.#approve(account, providerTemplateId, template, EDIT_APPROVAL_DELAY_MS);
    return { ok: true, value: undefined };
  }

  async delete(): Promise<ProviderCall<void>> {
    return { ok: true, value: undefined };
  }

  async list(): Promise<ProviderCall<RemoteTemplate[]> | undefined> {
    return undefined;
  }

  async #approve(account: ProviderAccount, id: string, template: NewProviderTemplate, afterMs = 0): Promise<void> {
    const body = JSON.stringify({
      object: "whatsapp_business_account",
      entry: [
        {
          id: account.wabaId || "sandbox",
          // When the review "happens"; with the review id below, each approval is its own update, not a redelivery of an earlier one.
          time: Math.floor((Date.now() + afterMs) / 1000),
          changes: [
            {
              field: "message_template_status_update",
              value: {
                event: "APPROVED",
                message_template_id: id,
                message_template_name: template.name,
                message_template_language: template.language,
                message_template_category: template.category,
                reason: "NONE",
                sandbox_review_id: randomUUID(),
                // Routes the update to this sandbox number (a sandbox account may have no WABA id).
                metadata: { phone_number_id: account.phoneNumberId },
              },
            },
          ],
        },
      ],
    });
    // Not claimable before then (the inbox's not-before time, as the sandbox's delayed statuses use).
    await writeSandboxDeliveries(this.#inbox, account, [{ body, afterMs }], this.#wakeup);
  }
}
