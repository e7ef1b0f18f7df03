/**
 * The code reaches WhatsApp in clear, and only WhatsApp: the sender opens
 * the sealed code at the provider boundary (Graph API simulator), while the
 * stored message keeps the sealed form.
 */
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { OtpOutcome } from "../../gen/whatsapp/v1/otp_pb.js";
import { GraphSimulator } from "../support/graph-simulator.js";
import { SEALED_CODE_PREFIX } from "../../src/domain/otp/sealed-code.js";
import { APP_SECRET, AUTH_TEMPLATE, createOtpAccount, messageContent, newRecipient, otpTenant, startOtpHarness, type OtpHarness } from "./support.js";
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

describe("delivery of a one-time code", () => {
  it("when SendOtp is called, then Meta receives the AUTHENTICATION template with the code in the body and the copy-code button, and the stored message stays sealed", async () => {
    const tenant = otpTenant(harness, "deliver");
    const account = await createOtpAccount(harness, tenant, "otp-token");
    simulator.setToken(account.phoneNumberId, "otp-token");
    const phone = newRecipient();
    const sent = await tenant.otp.sendOtp({ accountId: account.id, phone, code: "604218", templateName: AUTH_TEMPLATE });

    const request = await eventually("Meta to accept the code's message", async () => simulator.acceptedFor(sent.messageId)[0]);
    expect(request.to).toBe(phone.slice(1));
    expect(request.body).toMatchObject({
      messaging_product: "whatsapp",
      type: "template",
      template: {
        name: AUTH_TEMPLATE,
        language: { code: "en_US" },
        components: [
          { type: "body", parameters: [{ type: "text", text: "604218" }] },
          { type: "button", sub_type: "url", index: "0", parameters: [{ type: "text", text: "604218" }] },
        ],
      },
    });
    const stored = await eventually("the code's message to be sent", async () => {
      const m = await messageContent(harness, tenant, sent.messageId);
      return m.status === "sent" ? m : undefined;
    });
    expect(JSON.stringify(stored.content)).not.toContain("604218");
    expect(JSON.stringify(stored.content)).toContain(SEALED_CODE_PREFIX);
  });

  it("when Meta refuses the code's message, then the OTP is void (EXPIRED) and a new code can be asked for at once", async () => {
    const tenant = otpTenant(harness, "deliver-refused");
    const account = await createOtpAccount(harness, tenant, "otp-token-3");
    simulator.setToken(account.phoneNumberId, "otp-token-3");
    const phone = newRecipient();
    simulator.failNext(1, { kind: "error", httpStatus: 400, code: 131026, title: "Message undeliverable" }, account.phoneNumberId);
    const sent = await tenant.otp.sendOtp({ accountId: account.id, phone, code: "550913", templateName: AUTH_TEMPLATE });
    await eventually("the code's message to be failed", async () => ((await messageContent(harness, tenant, sent.messageId)).status === "failed" ? true : undefined));

    const verdict = await tenant.otp.verifyOtp({ target: { case: "otpId", value: sent.otpId }, code: "550913" });
    expect(verdict.outcome).toBe(OtpOutcome.EXPIRED);
    // No cooldown to wait out for a code that never left: the next one goes at once, and verifies.
    const again = await tenant.otp.sendOtp({ accountId: account.id, phone, code: "550914", templateName: AUTH_TEMPLATE });
    await eventually("Meta to accept the new code's message", async () => simulator.acceptedFor(again.messageId)[0]);
    expect((await tenant.otp.verifyOtp({ target: { case: "otpId", value: again.otpId }, code: "550914" })).outcome).toBe(OtpOutcome.VERIFIED);
  });

  it("when a status webhook reports the code's message failed, then the OTP is void too", async () => {
    const tenant = otpTenant(harness, "deliver-failed-status");
    const account = await createOtpAccount(harness, tenant, "otp-token-4");
    simulator.setToken(account.phoneNumberId, "otp-token-4");
    const phone = newRecipient();
    const sent = await tenant.otp.sendOtp({ accountId: account.id, phone, code: "771204", templateName: AUTH_TEMPLATE });
    const accepted = await eventually("Meta to accept the code's message", async () => simulator.acceptedFor(sent.messageId)[0]);
    await eventually("the code's message to be sent", async () => ((await messageContent(harness, tenant, sent.messageId)).status === "sent" ? true : undefined));

    // Meta's failed status for the message (reference: statuses[].errors), signed like Meta signs it.
    const raw = JSON.stringify({
      object: "whatsapp_business_account",
      entry: [
        {
          id: account.wabaId,
          changes: [
            {
              field: "messages",
              value: {
                messaging_product: "whatsapp",
                metadata: { display_phone_number: account.displayPhoneNumber.replace("+", ""), phone_number_id: account.phoneNumberId },
                statuses: [
                  {
                    id: accepted.wamid,
                    status: "failed",
                    timestamp: String(Math.floor(Date.now() / 1000)),
                    recipient_id: phone.slice(1),
                    errors: [{ code: 131026, title: "Message undeliverable", message: "Message undeliverable", error_data: { details: "Message Undeliverable." } }],
                  },
                ],
              },
            },
          ],
        },
      ],
    });
    const response = await fetch(`${harness.svc.service.url}/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-hub-signature-256": `sha256=${createHmac("sha256", APP_SECRET).update(raw).digest("hex")}` },
      body: raw,
    });
    expect(response.status).toBe(200);
    await eventually("the code's message to be failed", async () => ((await messageContent(harness, tenant, sent.messageId)).status === "failed" ? true : undefined));
    expect((await tenant.otp.verifyOtp({ target: { case: "otpId", value: sent.otpId }, code: "771204" })).outcome).toBe(OtpOutcome.EXPIRED);
  });

  it("when a sealed code was copied into a message to someone else, then it is never sent: the message fails", async () => {
    const tenant = otpTenant(harness, "deliver-copy");
    const account = await createOtpAccount(harness, tenant, "otp-token-2");
    const sent = await tenant.otp.sendOtp({ accountId: account.id, phone: newRecipient(), code: "918273", templateName: AUTH_TEMPLATE });
    const original = await eventually("the code's message to be sent", async () => {
      const m = await messageContent(harness, tenant, sent.messageId);
      return m.status === "sent" ? m : undefined;
    });

    // The stored (sealed) content, queued again for another recipient by hand.
    const other = newRecipient().slice(1);
    const [row] = await harness.sql.unsafe<{ id: string; contact_id: string; conversation_id: string }[]>(
      `select id, contact_id, conversation_id from "${tenant.schema}".messages where id = $1`,
      [sent.messageId],
    );
    const copyId = "0190b000-0000-7000-8000-00000000c0de";
    await harness.sql.begin(async (tx) => {
      await tx.unsafe(
        `insert into "${tenant.schema}".messages (id, account_id, conversation_id, contact_id, direction, type, status, content, priority, recipient)
         values ($1, $2, $3, $4, 'outbound', 'template', 'queued', $5, 'otp', $6)`,
        [copyId, account.id, row!.conversation_id, row!.contact_id, tx.json(original.content as never), other],
      );
      await tx.unsafe(`insert into control.jobs (id, tenant_id, kind, payload, priority) values (gen_random_uuid(), $1, 'send_message', $2, 30)`, [
        tenant.id,
        tx.json({ messageId: copyId, accountId: account.id }),
      ]);
    });
    harness.svc.service.app.sendWakeup.notify();

    const failed = await eventually("the copied message to be failed", async () => {
      const m = await messageContent(harness, tenant, copyId);
      return m.status === "failed" ? m : undefined;
    });
    expect(failed.status).toBe("failed");
    expect(simulator.requestsFor(copyId)).toHaveLength(0);
  });
});
