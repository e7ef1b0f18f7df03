/** Which template management an account uses: Meta's Graph API, the sandbox, or a refusal for Twilio (not built yet). */
import type { Provider } from "../../domain/account.js";
import type { ProviderCall, TemplateProvider, TemplateProviders } from "../../ports/template-provider.js";
import type { ProviderAccount } from "../../ports/whatsapp-provider.js";
import type { OwnDeliveries } from "../../ports/webhook-inbox.js";
import type { Wakeup } from "../shared/wakeup.js";
import { MetaTemplateClient } from "./meta/template-client.js";
import { SandboxTemplates } from "./sandbox/sandbox-templates.js";

export interface TemplateProvidersOptions {
  /** Where the sandbox writes its status deliveries (the webhook inbox). */
  inbox: OwnDeliveries;
  graphUrl: string;
  graphVersion: string;
  timeoutMs?: number;
  inboxWakeup?: Wakeup;
}

export class DefaultTemplateProviders implements TemplateProviders {
  readonly #providers: Readonly<Record<Provider, TemplateProvider>>;

  constructor(options: TemplateProvidersOptions) {
    this.#providers = {
      meta: new MetaTemplateClient({ graphUrl: options.graphUrl, graphVersion: options.graphVersion, timeoutMs: options.timeoutMs }),
      sandbox: new SandboxTemplates({ inbox: options.inbox, inboxWakeup: options.inboxWakeup }),
      twilio: new Unsupported(),
    };
  }

  forAccount(account: ProviderAccount): TemplateProvider {
    return this.#providers[account.provider];
  }
}

class Unsupported implements TemplateProvider {
  #refuse<T>(): Promise<ProviderCall<T>> {
    return Promise.resolve({ ok: false, kind: "rejected", error: { code: 0, title: "Not supported", details: "template management through Twilio is not implemented", httpStatus: 400 } });
  }

  create() {
    return this.#refuse<never>();
  }

  edit() {
    return this.#refuse<void>();
  }

  delete() {
    return this.#refuse<void>();
  }

  list() {
    return this.#refuse<never>();
  }
}
