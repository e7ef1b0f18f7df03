import type { ServiceImpl } from "@connectrpc/connect";

import type { AppContext } from "../../../context.js";
import type { MessagingService } from "../../../../gen/whatsapp/v1/messaging_pb.js";
import { PostgresOutboundStore } from "../../postgres/stores/outbound-store.js";
import { getMessageHandler } from "./get-message.js";
import { getQueueStatsHandler } from "./get-queue-stats.js";
import { listFailedMessagesHandler } from "./list-failed-messages.js";
import { markAsReadHandler } from "./mark-as-read.js";
import { retryMessageHandler } from "./retry-message.js";
import { sendMessageHandler } from "./send-message.js";

export function messagingService(app: AppContext): ServiceImpl<typeof MessagingService> {
  const outbound = new PostgresOutboundStore(app.database.db, {
    newId: app.newId,
    onEventsCommitted: () => app.outboxWakeup.notify(),
    // Queued sends start at once instead of at the sender's next poll.
    onJobsCommitted: () => app.sendWakeup.notify(),
  });
  const deps = { outbound, accounts: app.accounts, newId: app.newId, now: app.now, providers: app.providers, templates: app.templates };
  return {
    sendMessage: sendMessageHandler(deps),
    getMessage: getMessageHandler(deps),
    markAsRead: markAsReadHandler(deps),
    listFailedMessages: listFailedMessagesHandler(deps),
    retryMessage: retryMessageHandler(deps),
    getQueueStats: getQueueStatsHandler(deps),
  };
}
