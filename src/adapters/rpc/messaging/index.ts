import type { ServiceImpl } from "@connectrpc/connect";

import type { MarkAsReadDeps } from "../../../app/messaging/mark-as-read.js";
import type { SendMessageDeps } from "../../../app/messaging/send-message.js";
import type { MessagingService } from "../../../../gen/whatsapp/v1/messaging_pb.js";
import { getMessageRpc } from "./get-message.js";
import { getQueueStatsRpc } from "./get-queue-stats.js";
import { listFailedMessagesRpc } from "./list-failed-messages.js";
import { markAsReadRpc } from "./mark-as-read.js";
import { retryMessageRpc } from "./retry-message.js";
import { sendMessageRpc } from "./send-message.js";

/** What MessagingService's handlers use: the outbound store, accounts, the providers (mark-as-read), the template check, ids and the clock. */
export type MessagingServiceDeps = SendMessageDeps & MarkAsReadDeps;

/** MessagingService: one file per RPC. */
export function messagingService(deps: MessagingServiceDeps): ServiceImpl<typeof MessagingService> {
  return {
    ...sendMessageRpc(deps),
    ...getMessageRpc(deps),
    ...markAsReadRpc(deps),
    ...listFailedMessagesRpc(deps),
    ...retryMessageRpc(deps),
    ...getQueueStatsRpc(deps),
  };
}
