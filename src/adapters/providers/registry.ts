/** Which provider implementation sends for an account: Meta's Cloud API, Twilio's Messages API, or the built-in sandbox. */
import type { Provider } from "../../domain/account.js";
import type { ProviderAccount, ProviderRegistry, WhatsAppProvider } from "../../ports/whatsapp-provider.js";
import type { OwnDeliveries } from "../../ports/webhook-inbox.js";
import type { ServiceMetrics } from "../../observability/metrics.js";
import type { Wakeup } from "../shared/wakeup.js";
import { GraphClient } from "./meta/graph-client.js";
import { MetaProvider } from "./meta/meta-provider.js";
import { SandboxProvider, type SandboxProviderOptions } from "./sandbox/sandbox-provider.js";
import { TwilioClient } from "./twilio/twilio-client.js";
import { TwilioProvider } from "./twilio/twilio-provider.js";

export interface ProviderRegistryOptions {
  /** Where the sandbox writes its status deliveries (the webhook inbox). */
  inbox: OwnDeliveries;
  /** WHATSAPP_GRAPH_URL, WHATSAPP_API_VERSION. */
  graphUrl: string;
  graphVersion: string;
  /** Graph API call timeout. Default 10 s. */
  graphTimeoutMs?: number;
  /** TWILIO_BASE_URL. */
  twilioUrl: string;
  /** Twilio API call timeout. Default 10 s. */
  twilioTimeoutMs?: number;
  /** PUBLIC_URL: the base of the status callback URLs given to Twilio. */
  publicUrl: string | undefined;
  inboxWakeup?: Wakeup;
  sandbox?: Omit<SandboxProviderOptions, "inbox" | "inboxWakeup">;
  /** Graph API latency and errors (the `/metrics` registry). */
  metrics?: ServiceMetrics;
}

export class DefaultProviderRegistry implements ProviderRegistry {
  readonly #providers: Readonly<Record<Provider, WhatsAppProvider>>;
  readonly #graph: GraphClient;
  readonly #twilio: TwilioClient;

  constructor(options: ProviderRegistryOptions) {

    this.#graph = new GraphClient({ baseUrl: options.graphUrl, version: options.graphVersion, timeoutMs: options.graphTimeoutMs, metrics: options.metrics });
    this.#twilio = new TwilioClient({ baseUrl: options.twilioUrl, timeoutMs: options.twilioTimeoutMs });
    this.#providers = {
      meta: new MetaProvider(this.#graph),
      sandbox: new SandboxProvider({ inbox: options.inbox, inboxWakeup: options.inboxWakeup, ...options.sandbox }),
      twilio: new TwilioProvider({ client: this.#twilio, publicUrl: options.publicUrl }),
    };
  }

  forAccount(account: ProviderAccount): WhatsAppProvider {
    return this.#providers[account.provider];
  }

  /** Closes idle Graph API and Twilio connections. */
  close(): void {
    this.#graph.close();
    this.#twilio.close();
  }
}
