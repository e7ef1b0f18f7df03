import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";

import { getContact } from "../../../app/conversations/contacts.js";
import type { ConversationStore } from "../../../ports/conversation-store.js";
import { GetContactResponseSchema, type ConversationService, type GetContactRequest } from "../../../../gen/whatsapp/v1/conversation_pb.js";
import { contactToPb } from "../../events/contact-pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";

export function getContactRpc(deps: { conversations: ConversationStore }): RpcImpl<typeof ConversationService, "getContact"> {
  return {
    async getContact(req: GetContactRequest, ctx: HandlerContext) {
      const contact = await getContact(deps, tenantOf(ctx), req.contactId);
      return create(GetContactResponseSchema, { contact: contactToPb(contact) });
    },
  };
}
