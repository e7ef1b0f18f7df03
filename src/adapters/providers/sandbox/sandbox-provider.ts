/**
 * The built-in SANDBOX provider (SPEC §1): no credentials, accepts every
 * send, and reports `sent` → `delivered` → `read` the way Meta does — as
 * status webhooks. It writes Meta-shaped status deliveries into the webhook
 * inbox (provider `sandbox`, trusted because they are made here), so they go
 * through the very path Meta's statuses take: the inbox worker, status
 * ordering, early statuses kept until the wamid is recorded, the
 * `message.status` events. `delivered` and `read` are written with a
 * not-before time (the inbox row's `locked_until`), so they arrive "later"
 * without any timer in this process: a restart loses none of them.
 *
 * This lets `npm start` demonstrate a full send → status round trip with
 * nothing else running.
 */
import { isBsuid } from "../../../domain/contact-identity.js";
import { randomBytes } from "node:crypto";


import type { InboundDelivery } from "../../../domain/inbound.js";
import type { OutboundSend, ProviderAccount, SendOutcome, WhatsAppProvider } from "../../../ports/whatsapp-provider.js";
import type { OwnDeliveries } from "../../../ports/webhook-inbox.js";
import type { Wakeup } from "../../shared/wakeup.js";
import { parseMetaWebhookBody } from "../meta/webhook-payload.js";

export interface SandboxProviderOptions {
  /** Where its status deliveries go (the webhook inbox). */
  inbox: OwnDeliveries;
  /** Notified after status deliveries are written, so the inbox worker looks at once. */
  inboxWakeup?: Wakeup;
  /** After the send, when `delivered` is reported. Default 1 s. */
  deliveredAfterMs?: number;
  /** After the send, when `read` is reported. Default 2 s. */
  readAfterMs?: number;
  now?: () => Date;
}

/** The inbox `provider` of the sandbox's own status deliveries. */
export const SANDBOX_INBOX_PROVIDER = "sandbox";

export class SandboxProvider implements WhatsAppProvider {
  readonly #inbox: OwnDeliveries;
  readonly #wakeup: Wakeup | undefined;
  readonly #deliveredAfterMs: number;
  readonly #readAfterMs: number;
  readonly #now: () => Date;

  constructor(options: SandboxProviderOptions) {
    this.#inbox = options.inbox;
    this.#wakeup = options.inboxWakeup;
    this.#deliveredAfterMs = options.deliveredAfterMs ?? 1_000;
    this.#readAfterMs = options.readAfterMs ?? 2_000;
    this.#now = options.now ?? (() => new Date());
  }

  async send(account: ProviderAccount, message: OutboundSend): Promise<SendOutcome> {
    const wamid = `wamid.SANDBOX${randomBytes(18).toString("base64url")}`;
    const sentAt = this.#now();
    // Meta reports only `sent` for reactions (reference §3.3).
    const steps: [status: string, afterMs: number][] =
      message.body.type === "reaction"
        ? [["sent", 0]]
        : [
            ["sent", 0],
            ["delivered", this.#deliveredAfterMs],
            ["read", this.#readAfterMs],
          ];
    const callbackData = typeof message.body.biz_opaque_callback_data === "string" ? message.body.biz_opaque_callback_data : message.messageId;
    await writeSandboxDeliveries(
      this.#inbox,
      account,
      steps.map(([status, afterMs]) => ({
        body: statusDelivery(account, { wamid, status, at: new Date(sentAt.getTime() + afterMs), recipientId: message.to, callbackData }),
        afterMs,
      })),
      this.#wakeup,
    );
    return { kind: "accepted", providerMessageId: wamid };
  }

  async markAsRead(_account: ProviderAccount, providerMessageId: string): Promise<SendOutcome> {
    return { kind: "accepted", providerMessageId };
  }
}

/**
 * Writes Meta-shaped webhook bodies into the inbox as the sandbox's own
 * deliveries (provider `sandbox`), then wakes the inbox worker. A delivery
 * with `afterMs` > 0 "arrives" that much later, after the earlier ones.
 */
export async function writeSandboxDeliveries(
  inbox: OwnDeliveries,
  account: ProviderAccount,
  deliveries: readonly { body: string; afterMs: number }[],
  wakeup: Wakeup | undefined,
): Promise<void> {
  await inbox.write({ provider: SANDBOX_INBOX_PROVIDER, accountId: account.id }, deliveries);
  wakeup?.notify();
}

/** One status in Meta's webhook shape (reference §3.1, §3.3): timestamps are strings of unix seconds. */
function statusDelivery(
  account: ProviderAccount,
  status: { wamid: string; status: string; at: Date; recipientId: string; callbackData: string },
): string {
  return JSON.stringify({
    object: "whatsapp_business_account",
    entry: [
      {
        id: account.wabaId || "sandbox",
        changes: [
          {
            field: "messages",
            value: {
              messaging_product: "whatsapp",
              metadata: { display_phone_number: account.displayPhoneNumber.replace(/^\+/, ""), phone_number_id: account.phoneNumberId },
              statuses: [
                {
                  id: status.wamid,
                  status: status.status,
                  timestamp: String(Math.floor(status.at.getTime() / 1000)),
                  // Like Meta: a send addressed by BSUID reports its recipient by `recipient_user_id`.
                  ...(isBsuid(status.recipientId) ? { recipient_user_id: status.recipientId } : { recipient_id: status.recipientId }),
                  biz_opaque_callback_data: status.callbackData,
                  ...(status.status !== "read" ? { pricing: { billable: false, pricing_model: "PMP", type: "free_customer_service", category: "service" } } : {}),
                },
              ],
            },
          },
        ],
      },
    ],
  });
}

/** Reads a sandbox status delivery from the inbox: Meta's shape, routed to `sandbox` accounts. */
export function parseSandboxDelivery(body: Uint8Array, receivedAt: Date): InboundDelivery {
  const delivery = parseMetaWebhookBody(body, { receivedAt });
  return {
    ...delivery,
    changes: delivery.changes.map((change) =>
      change.kind === "messaging"
        ? { ...change, provider: "sandbox", messages: change.messages.map((m) => ({ ...m, provider: "sandbox" })) }
        : { ...change, provider: "sandbox" },
    ),
  };
}
