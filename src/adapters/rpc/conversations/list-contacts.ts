import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext } from "@connectrpc/connect";

import { listContacts } from "../../../app/conversations/contacts.js";
import type { ConversationStore } from "../../../ports/conversation-store.js";
import { ListContactsResponseSchema, type ConversationService, type ListContactsRequest } from "../../../../gen/whatsapp/v1/conversation_pb.js";
import { contactToPb } from "../../events/contact-pb.js";
import type { RpcImpl } from "../rpc-impl.js";
import { tenantOf } from "../tenant-context.js";
import { emptyToUndefined } from "./request-fields.js";

export function listContactsRpc(deps: { conversations: ConversationStore }): RpcImpl<typeof ConversationService, "listContacts"> {
  return {
    async listContacts(req: ListContactsRequest, ctx: HandlerContext) {
      const page = await listContacts(deps, tenantOf(ctx), {
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        phone: emptyToUndefined(req.phone),
        profileName: emptyToUndefined(req.profileName),
        userId: emptyToUndefined(req.userId),
        parentUserId: emptyToUndefined(req.parentUserId),
        username: emptyToUndefined(req.username),
        optedOut: req.optedOut,
        minLastSeenTime: req.minLastSeenTime && timestampDate(req.minLastSeenTime),
      });
      return create(ListContactsResponseSchema, { contacts: page.items.map(contactToPb), nextPageToken: page.nextPageToken });
    },
  };
}
