/**
 * Which provider implementation sends for an account: Meta's Cloud API,
 * the built-in sandbox, or — until the Twilio work lands — a refusal that
 * says so (a permanent failure with a clear title, not a silent drop).
 */
import type { Provider } from "../../domain/account.js";
import type { ProviderAccount, ProviderRegistry, SendOutcome, WhatsAppProvider } from "../../ports/whatsapp-provider.js";
import type { OwnDeliveries } from "../../ports/webhook-inbox.js";
import type { ServiceMetrics } from "../../observability/metrics.js";
import type { Wakeup } from "../shared/wakeup.js";
import { GraphClient } from "./meta/graph-client.js";
import { MetaProvider } from "./meta/meta-provider.js";
import { SandboxProvider, type SandboxProviderOptions } from "./sandbox/sandbox-provider.js";

export interface ProviderRegistryOptions {
  /** Where the sandbox writes its status deliveries (the webhook inbox). */
  inbox: OwnDeliveries;
  /** WHATSAPP_GRAPH_URL, WHATSAPP_API_VERSION. */
  graphUrl: string;
  graphVersion: string;
  /** Graph API call timeout. Default 10 s. */
  graphTimeoutMs?: number;
  inboxWakeup?: Wakeup;
  sandbox?: Omit<SandboxProviderOptions, "inbox" | "inboxWakeup">;
  /** Graph API latency and errors (the `/metrics` registry). */
  metrics?: ServiceMetrics;
}

export class DefaultProviderRegistry implements ProviderRegistry {
  readonly #providers: Readonly<Record<Provider, WhatsAppProvider>>;
  readonly #graph: GraphClient;

  constructor(options: ProviderRegistryOptions) {
    this.#graph = new GraphClient({ baseUrl: options.graphUrl, version: options.graphVersion, timeoutMs: options.graphTimeoutMs, metrics: options.metrics });
    this.#providers = {
      meta: new MetaProvider(this.#graph),
      sandbox: new SandboxProvider({ inbox: options.inbox, inboxWakeup: options.inboxWakeup, ...options.sandbox }),
      twilio: new NotYetSupported("twilio"),
    };
  }

  forAccount(account: ProviderAccount): WhatsAppProvider {
    return this.#providers[account.provider];
  }

  /** Closes idle Graph API connections. */
  close(): void {
    this.#graph.close();
  }
}

class NotYetSupported implements WhatsAppProvider {
  readonly #name: string;

  constructor(name: string) {
    this.#name = name;
  }

  async send(): Promise<SendOutcome> {
    return this.#refuse();
  }

  async markAsRead(): Promise<SendOutcome> {
    return this.#refuse();
  }

  #refuse(): SendOutcome {
    return { kind: "rejected", error: { code: 0, title: "Provider not supported yet", details: `sending through ${this.#name} is not implemented`, httpStatus: 400 } };
  }
}
