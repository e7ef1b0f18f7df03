import { create } from "@bufbuild/protobuf";
import { Code, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";

import type { AppContext } from "../../../context.js";
import type { Event } from "../../../../gen/whatsapp/v1/events_pb.js";
import {
  WatchEventsResponseSchema,
  type ConversationService,
  type WatchEventsRequest,
  type WatchEventsResponse,
} from "../../../../gen/whatsapp/v1/conversation_pb.js";
import { eventNameOf } from "../../events/event-envelope.js";
import type { EventFeed } from "../../postgres/outbox/event-feed.js";
import { connectError } from "../errors.js";
import { tenantOf } from "../tenant-context.js";

/**
 * ConversationService.WatchEvents: the calling tenant's events from the
 * event feed (postgres/event-feed.ts) — after `after_event_id` (replayed
 * from the outbox) or from now, then live, until the client leaves.
 *
 * The tenant comes from the auth context only; the feed reads no other
 * tenant's rows, and another tenant's event id is "not retained" exactly like
 * an unknown one. On shutdown the stream ends with UNAVAILABLE once what was
 * queued is sent: the client resumes with the last event id it received.
 */
export function watchEventsHandler(app: AppContext): ServiceImpl<typeof ConversationService>["watchEvents"] {
  return (req, ctx) => watchEvents(app.eventFeed, req, ctx);
}

async function* watchEvents(feed: EventFeed<Event>, req: WatchEventsRequest, ctx: HandlerContext): AsyncGenerator<WatchEventsResponse> {
  const tenantId = tenantOf(ctx);
  const from = req.afterEventId === "" ? await feed.now() : await feed.resumeAfter(tenantId, req.afterEventId);
  if (from === undefined) {
    throw connectError(
      Code.OutOfRange,
      "EVENT_NOT_RETAINED",
      `after_event_id: event ${req.afterEventId} is not retained (unknown, or older than the outbox keeps); watch from now, or after a later event`,
    );
  }
  const eventTypes = req.types.map(eventNameOf).filter((name) => name !== undefined);
  const { accountId, conversationId } = req;
  const watch = feed.watch({
    tenantId,
    from,
    eventTypes,
    accept: (event) => (accountId === "" || event.accountId === accountId) && (conversationId === "" || event.conversationId === conversationId),
    signal: ctx.signal,
  });
  try {
    for await (const event of watch) yield create(WatchEventsResponseSchema, { event });
  } finally {
    watch.close();
  }
  if (watch.ended === "shutdown") {
    throw connectError(Code.Unavailable, "SHUTTING_DOWN", "the service is shutting down; watch again with after_event_id = the last event received");
  }
}
