import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";

import { MessageStatusEventSchema, OtpVerifiedEventSchema } from "../gen/whatsapp/v1/events_pb.js";
import { MessageStatus } from "../gen/whatsapp/v1/message_pb.js";
import { decodeEvent, EVENT_TYPE_HEADER, type EventMessage } from "./events.js";

function message(subject: string, data: Uint8Array, headers: Record<string, string> = {}): EventMessage {
  return { subject, data, headers: { get: (key) => headers[key] ?? "" } };
}

describe("decodeEvent", () => {
  it("when the header names message.status, then the body decodes as a MessageStatusEvent and the type narrows to it", () => {
    const body = toBinary(MessageStatusEventSchema, create(MessageStatusEventSchema, { messageId: "m-1", status: MessageStatus.DELIVERED }));
    const decoded = decodeEvent(message("whatsapp.acme.message.status", body, { [EVENT_TYPE_HEADER]: "message.status" }));
    if (decoded?.type !== "message.status") throw new Error(`decoded as ${decoded?.type}`);
    expect(decoded.event.messageId).toBe("m-1");
    expect(decoded.event.status).toBe(MessageStatus.DELIVERED);
  });

  it("when a message has no header, then the subject's tail names the type", () => {
    const body = toBinary(OtpVerifiedEventSchema, create(OtpVerifiedEventSchema, { otpId: "o-1" }));
    const decoded = decodeEvent({ subject: "whatsapp.acme.otp.verified", data: body });
    expect(decoded?.type).toBe("otp.verified");
  });

  it("when the type is one this build does not know, then it returns undefined so the consumer can ack and skip it", () => {
    expect(decodeEvent(message("whatsapp.acme.invoice.paid", new Uint8Array([1, 2]), { [EVENT_TYPE_HEADER]: "invoice.paid" }))).toBeUndefined();
  });
});
