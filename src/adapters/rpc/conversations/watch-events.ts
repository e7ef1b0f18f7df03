import { create } from "@bufbuild/protobuf";
import { Code, type HandlerContext } from "@connectrpc/connect";

import type { Event } from "../../../../gen/whatsapp/v1/events_pb.js";
import {
  WatchEventsResponseSchema,
  type ConversationService,
  type WatchEventsRequest,
  type WatchEventsResponse,
} from "../../../../gen/whatsapp/v1/conversation_pb.js";
import { eventNameOf } from "../../events/event-envelope.js";
import { connectError } from "../errors.js";
import type { RpcImpl } from "../rpc-impl.js";
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
export function watchEventsRpc(deps: { eventFeed: EventStream }): RpcImpl<typeof ConversationService, "watchEvents"> {
  return {
    watchEvents: (req, ctx) => watchEvents(deps.eventFeed, req, ctx),
  };
}

/**
 * The calls WatchEvents makes on the event feed (postgres/event-feed.ts,
 * built once by the composition root). Where a watch starts is the feed's
 * own value: the stream only hands it back.
 */
export interface EventStream {
  now(): Promise<unknown>;
  resumeAfter(tenantId: string, eventId: string): Promise<unknown>;
  watch(options: {
    tenantId: string;
    from: unknown;
    eventTypes?: readonly string[];
    accept?: (event: Event) => boolean;
    signal?: AbortSignal;
  }): AsyncIterable<Event> & { readonly ended: "closed" | "shutdown" | undefined; close(): void };
}

async function* watchEvents(feed: EventStream, req: WatchEventsRequest, ctx: HandlerContext): AsyncGenerator<WatchEventsResponse> {
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
