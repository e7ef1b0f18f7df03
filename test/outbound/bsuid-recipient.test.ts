/**
 * Sending to a user who hides their number (ADR 0007), through the real
 * service (inbox and sender workers, HTTP webhooks, gRPC clients) and the
 * Graph API simulator: a reply goes out addressed by BSUID in Meta's
 * `recipient` field, its statuses (naming the recipient by
 * `recipient_user_id` only) move it to READ with one event per change, and
 * what Meta does not allow to a BSUID (one-time codes) is refused up front.
 */
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { ConversationService } from "../../gen/whatsapp/v1/conversation_pb.js";
import {
  MessageStatus,
  TemplateMessageComponent_ButtonSubType as ButtonSubType,
  TemplateMessageComponent_Type as ComponentType,
} from "../../gen/whatsapp/v1/message_pb.js";
import { MessagingService } from "../../gen/whatsapp/v1/messaging_pb.js";
import type { Account } from "../../gen/whatsapp/v1/account_pb.js";
import { eventsNamed, outboxEvents } from "../inbound/support/inbound-harness.js";
import { clientFor } from "../support/service.js";
import { GraphSimulator } from "../support/graph-simulator.js";
import { deliver, messagesChange, metaEnvelope, newWamid, statusUpdate, type StatusName } from "../support/meta-simulator.js";
import { refusal } from "../support/refusal.js";
import { APP_SECRET, AUTH_TEMPLATE, createOtpAccount, otpTenant, startOtpHarness, type OtpHarness, type OtpTenant } from "../otp/support.js";
import { eventually } from "../kit/eventually.js";

let simulator: GraphSimulator;
let harness: OtpHarness;

beforeAll(async () => {
  simulator = await GraphSimulator.start();
  harness = await startOtpHarness({ simulator });
});

afterAll(async () => {
  await harness?.cleanup();
  await simulator?.close();
});

let next = 0;
/** A BSUID of its own per test: `US.` and digits, like Meta's. */
const newBsuid = () => `US.${Date.now()}${String(next++).padStart(4, "0")}`;

async function deliverSigned(payload: unknown): Promise<void> {
  const response = await deliver(`${harness.svc.service.url}/webhook`, payload, { appSecret: APP_SECRET });
  expect(response.status).toBe(200);
}

/** The user writes with no phone number anywhere: `contacts[].user_id` and `from_user_id` only. */
async function userWritesByBsuid(tenant: OtpTenant, account: Account, bsuid: string): Promise<void> {
  const wamid = newWamid();
  await deliverSigned(
    metaEnvelope(account.wabaId, [
      messagesChange({
        phoneNumberId: account.phoneNumberId,
        displayPhoneNumber: account.displayPhoneNumber.replace("+", ""),
        contacts: [{ profile: { name: "Hidden", username: "hidden.user" }, user_id: bsuid }],
        messages: [{ from_user_id: bsuid, id: wamid, timestamp: String(Math.floor(Date.now() / 1000)), type: "text", text: { body: "hola" } }],
      }),
    ]),
  );
  await eventually("the inbound message to be stored", async () => {
    const rows = await harness.sql.unsafe<{ id: string }[]>(`select id from "${tenant.schema}".messages where wamid = $1`, [wamid]);
    return rows[0];
  }, { timeoutMs: 30_000 });
}

async function deliverStatus(account: Account, wamid: string, status: StatusName, bsuid: string): Promise<void> {
  await deliverSigned(
    metaEnvelope(account.wabaId, [
      messagesChange({
        phoneNumberId: account.phoneNumberId,
        displayPhoneNumber: account.displayPhoneNumber.replace("+", ""),
        statuses: [statusUpdate({ id: wamid, status, recipientId: bsuid })],
      }),
    ]),
  );
}

describe("sending to a contact known only by BSUID", () => {
  it("when the business replies inside the window, then the Graph API gets it addressed by recipient (no to), and statuses with recipient_user_id only move it to READ with one event per change", async () => {
    const tenant = otpTenant(harness, "bsuid-reply");
    const account = await createOtpAccount(harness, tenant, "bsuid-token");
    simulator.setToken(account.phoneNumberId, "bsuid-token");
    const bsuid = newBsuid();
    await userWritesByBsuid(tenant, account, bsuid);

    const messaging = clientFor(MessagingService, harness.svc.service.url, tenant.id);
    const { message } = await messaging.sendMessage({ accountId: account.id, to: bsuid, content: { case: "text", value: { body: "¿En qué te ayudo?" } } });
    const messageId = message!.id;
    const request = await eventually("Meta to accept the message", async () => simulator.acceptedFor(messageId)[0], { timeoutMs: 30_000 });
    expect(request.body).toStrictEqual({
      biz_opaque_callback_data: messageId,
      type: "text",
      text: { body: "¿En qué te ayudo?" },
      messaging_product: "whatsapp",
      recipient_type: "individual",
      recipient: bsuid,
    });

    const statusOf = async () => (await messaging.getMessage({ messageId })).message?.status;
    await eventually("the message to be sent", async () => ((await statusOf()) === MessageStatus.SENT ? true : undefined), { timeoutMs: 30_000 });
    for (const status of ["sent", "delivered", "read", "read"] as const) await deliverStatus(account, request.wamid!, status, bsuid);
    await eventually("the message to be read", async () => ((await statusOf()) === MessageStatus.READ ? true : undefined), { timeoutMs: 30_000 });

    // The send joined the contact the user's message created: one contact, one conversation.
    const contacts = await harness.sql.unsafe<{ id: string; wa_id: string | null; bsuid: string }[]>(`select id, wa_id, bsuid from "${tenant.schema}".contacts`);
    expect(contacts).toMatchObject([{ wa_id: null, bsuid }]);
    expect(message?.conversationId).not.toBe("");

    const statusEvents = await eventually("the message's status events up to read", async () => {
      const events = eventsNamed(await outboxEvents(harness.svc.service.app.database.db, tenant.id), "message.status").filter((e) => e.event.messageId === messageId);
      return events.some((e) => e.event.status === MessageStatus.READ) ? events : undefined;
    }, { timeoutMs: 30_000 });
    expect(statusEvents.map((e) => [e.event.previousStatus, e.event.status]).slice(1)).toStrictEqual([
      [MessageStatus.SENT, MessageStatus.DELIVERED],
      [MessageStatus.DELIVERED, MessageStatus.READ],
    ]);
    expect(statusEvents[0]?.event.status).toBe(MessageStatus.SENT);
    expect(statusEvents.every((e) => e.event.to === bsuid)).toBe(true);

    // And the contact is found by its BSUID.
    const conversations = clientFor(ConversationService, harness.svc.service.url, tenant.id);
    const listed = await conversations.listContacts({ userId: bsuid });
    expect(listed.contacts.map((c) => [c.userId, c.waId, c.phone, c.username])).toStrictEqual([[bsuid, "", "", "hidden.user"]]);
    const threads = await conversations.listConversations({ contactUserId: bsuid });
    expect(threads.conversations).toHaveLength(1);
  });

  it("when SendOtp names a contact known only by BSUID, then it is refused up front with FailedPrecondition PHONE_NUMBER_REQUIRED and nothing is sent", async () => {
    const tenant = otpTenant(harness, "bsuid-otp");
    const account = await createOtpAccount(harness, tenant, "bsuid-otp-token");
    const bsuid = newBsuid();
    await userWritesByBsuid(tenant, account, bsuid);
    const before = simulator.requests.length;

    const error = await refusal(tenant.otp.sendOtp({ accountId: account.id, userId: bsuid, code: "604218", templateName: AUTH_TEMPLATE }));
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.findDetails(ErrorInfoSchema)[0]?.reason).toBe("PHONE_NUMBER_REQUIRED");
    expect(error.rawMessage).toContain("phone number");
    const queued = await harness.sql.unsafe<{ n: number }[]>(`select count(*)::int as n from "${tenant.schema}".messages where direction = 'outbound'`);
    expect(queued[0]?.n).toBe(0);
    expect(simulator.requests.length).toBe(before);
  });

  it("when SendMessage sends an authentication template to a BSUID, then it is refused with FailedPrecondition BSUID_RECIPIENT_NOT_SUPPORTED", async () => {
    const tenant = otpTenant(harness, "bsuid-auth");
    const account = await createOtpAccount(harness, tenant, "bsuid-auth-token");
    const bsuid = newBsuid();
    const messaging = clientFor(MessagingService, harness.svc.service.url, tenant.id);
    const error = await refusal(
      messaging.sendMessage({
        accountId: account.id,
        to: bsuid,
        content: {
          case: "template",
          value: {
            name: AUTH_TEMPLATE,
            language: "en_US",
            components: [
              { type: ComponentType.BODY, parameters: [{ value: { case: "text", value: "123456" } }] },
              { type: ComponentType.BUTTON, subType: ButtonSubType.URL, index: 0, parameters: [{ value: { case: "text", value: "123456" } }] },
            ],
          },
        },
      }),
    );
    expect(error.code, error.rawMessage).toBe(Code.FailedPrecondition);
    expect(error.findDetails(ErrorInfoSchema)[0]?.reason, error.rawMessage).toBe("BSUID_RECIPIENT_NOT_SUPPORTED");
  });
});
