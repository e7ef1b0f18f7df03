/**
 * Payload shapes of WhatsApp username adopters (ADR 0007): the sender or
 * recipient may be named by a business-scoped user id (BSUID) only.
 */
import { describe, expect, it } from "vitest";

import { parseMetaWebhook } from "./webhook-payload.js";

const receivedAt = new Date("2026-07-01T12:00:00Z");
const BSUID = "US.13491208655302741918";

function change(value: Record<string, unknown>) {
  const delivery = parseMetaWebhook(
    {
      object: "whatsapp_business_account",
      entry: [
        {
          id: "waba-1",
          changes: [{ field: "messages", value: { messaging_product: "whatsapp", metadata: { display_phone_number: "15550783881", phone_number_id: "123" }, ...value } }],
        },
      ],
    },
    { receivedAt },
  );
  const [first] = delivery.changes;
  if (first?.kind !== "messaging") throw new Error("no messages change");
  return first;
}

const text = (extra: Record<string, unknown>) => ({ id: "wamid.1", timestamp: "1751371200", type: "text", text: { body: "hola" }, ...extra });

describe("parseMetaWebhook: BSUID senders", () => {
  it("when a message has from_user_id and no from, then it is read with the BSUID and an empty phone", () => {
    const c = change({
      contacts: [{ profile: { name: "Hidden", username: "hidden.user" }, user_id: BSUID, parent_user_id: "US.ENT.1" }],
      messages: [text({ from_user_id: BSUID })],
    });
    expect(c.skipped).toEqual([]);
    expect(c.messages).toMatchObject([{ wamid: "wamid.1", from: "", waId: "", fromUserId: BSUID, text: "hola" }]);
    expect(c.contacts).toEqual([{ waId: "", profileName: "Hidden", userId: BSUID, parentUserId: "US.ENT.1", username: "hidden.user", identityKeyHash: undefined }]);
  });

  it("when a message has both from and from_user_id, then both are kept", () => {
    const c = change({ contacts: [{ profile: { name: "Known" }, wa_id: "972987654321", user_id: BSUID }], messages: [text({ from: "972987654321", from_user_id: BSUID })] });
    expect(c.messages).toMatchObject([{ from: "+972987654321", waId: "972987654321", fromUserId: BSUID }]);
    expect(c.contacts[0]).toMatchObject({ waId: "972987654321", userId: BSUID });
  });

  it("when a message has only from (before BSUIDs), then it is read as before, with no user id", () => {
    const c = change({ contacts: [{ profile: { name: "Old" }, wa_id: "972987654321" }], messages: [text({ from: "972987654321" })] });
    expect(c.messages).toMatchObject([{ from: "+972987654321", waId: "972987654321" }]);
    expect(c.messages[0]?.fromUserId).toBeUndefined();
  });

  it("when a message has neither from nor from_user_id, then it is skipped as a message without a sender", () => {
    const c = change({ messages: [text({})] });
    expect(c.messages).toEqual([]);
    expect(c.skipped).toEqual([{ what: "message", reason: "message wamid.1 without a sender" }]);
  });

  it("when a contact has neither wa_id nor user_id, then it is not a contact", () => {
    expect(change({ contacts: [{ profile: { name: "Nobody" } }], messages: [text({ from_user_id: BSUID })] }).contacts).toEqual([]);
  });

  it("when a number-change notice carries the new user_id, then it is read with the new wa id", () => {
    const c = change({
      messages: [{ from: "972987654321", id: "wamid.2", timestamp: "1751371200", type: "system", system: { body: "changed", wa_id: "972912345678", user_id: "US.2", type: "user_changed_number" } }],
    });
    expect(c.messages[0]?.content).toEqual({ kind: "system", system: { body: "changed", type: "user_changed_number", newWaId: "972912345678", newUserId: "US.2", identity: undefined } });
  });
});

describe("parseMetaWebhook: BSUID recipients of statuses", () => {
  it("when a status has recipient_user_id and no recipient_id, then it is read with the BSUID", () => {
    const c = change({ statuses: [{ id: "wamid.out", status: "read", timestamp: "1751371200", recipient_user_id: BSUID }] });
    expect(c.skipped).toEqual([]);
    expect(c.statuses).toMatchObject([{ wamid: "wamid.out", status: "read", recipientId: "", recipientUserId: BSUID }]);
  });
});
