/** otp.verified → the protobuf OtpVerifiedEvent, ready for the outbox (SPEC §7). */
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";

import type { OtpVerified } from "../../domain/otp/otp.js";
import { OtpVerificationMethod, OtpVerifiedEventSchema } from "../../../gen/whatsapp/v1/events_pb.js";
import type { EncodedEvent } from "./encoded-event.js";

export function otpVerifiedToOutbox(event: OtpVerified): EncodedEvent {
  const payload = create(OtpVerifiedEventSchema, {
    eventId: event.eventId,
    tenantId: event.tenantId,
    accountId: event.accountId,
    occurredAt: timestampFromDate(event.occurredAt),
    otpId: event.otpId,
    phone: event.phone,
    method: event.via === "chat" ? OtpVerificationMethod.CHAT_REPLY : OtpVerificationMethod.API,
    messageId: event.inboundMessageId ?? "",
    conversationId: event.conversationId ?? "",
    metadata: event.metadata,
    contactId: event.contactId ?? "",
  });
  return { id: event.eventId, tenantId: event.tenantId, name: "otp.verified", payload: toBinary(OtpVerifiedEventSchema, payload) };
}
