/**
 * Helpers for the WatchEvents tests: real protobuf events written to the
 * outbox the way use cases write them (in a transaction, then a wake-up),
 * and a stream reader that collects what a client receives.
 */
import { randomUUID } from "node:crypto";

import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ConnectError, type Client } from "@connectrpc/connect";

import type { ConversationService, WatchEventsRequestSchema } from "../../gen/whatsapp/v1/conversation_pb.js";
import {
  ContactCreatedEventSchema,
  ConversationOpenedEventSchema,
  MessageReceivedEventSchema,
  MessageStatusEventSchema,
  type Event,
} from "../../gen/whatsapp/v1/events_pb.js";
import { MessageStatus, MessageType } from "../../gen/whatsapp/v1/message_pb.js";
import type { Database } from "../../src/adapters/postgres/db/database.js";
import { appendToOutbox, type EventName, type OutboxEvent } from "../../src/adapters/postgres/outbox/outbox.js";
import { eventually } from "../kit/eventually.js";

export interface EventSpec {
  name?: Extract<EventName, "message.received" | "message.status" | "conversation.opened" | "contact.created">;
  accountId?: string;
  conversationId?: string;
  /** Goes into the payload's text field where it has one (content / wamid), to tell events apart. */
  label?: string;
}

/** An outbox event with a real protobuf payload of its type. */
export function makeEvent(tenantId: string, spec: EventSpec = {}): OutboxEvent {
  const id = randomUUID();
  const name = spec.name ?? "message.received";
  const head = {
    eventId: id,
    tenantId,
    accountId: spec.accountId ?? randomUUID(),
    occurredAt: timestampFromDate(new Date()),
  };
  const conversationId = spec.conversationId ?? randomUUID();
  const label = spec.label ?? id;
  let payload: Uint8Array;
  switch (name) {
    case "message.received":
      payload = toBinary(
        MessageReceivedEventSchema,
        create(MessageReceivedEventSchema, { ...head, conversationId, messageId: randomUUID(), wamid: `wamid.${label}`, content: label, type: MessageType.TEXT }),
      );
      break;
    case "message.status":
      payload = toBinary(
        MessageStatusEventSchema,
        create(MessageStatusEventSchema, { ...head, conversationId, messageId: randomUUID(), wamid: `wamid.${label}`, content: label, status: MessageStatus.DELIVERED }),
      );
      break;
    case "conversation.opened":
      payload = toBinary(ConversationOpenedEventSchema, create(ConversationOpenedEventSchema, { ...head, conversationId, messageId: randomUUID() }));
      break;
    case "contact.created":
      payload = toBinary(ContactCreatedEventSchema, create(ContactCreatedEventSchema, { ...head, conversationId, messageId: randomUUID() }));
      break;
  }
  return { id, tenantId, name, payload };
}

/** Commits the events in one transaction, then wakes the relay and the feed, as writers do. */
export async function commitEvents(db: Database, events: readonly OutboxEvent[], wake?: () => void): Promise<OutboxEvent[]> {
  await db.transaction((tx) => appendToOutbox(tx, events));
  wake?.();
  return [...events];
}

/** A WatchEvents call read in the background: what arrived so far, and how it ended. */
export interface OpenWatch {
  readonly events: Event[];
  ids(): string[];
  /** Set when the stream ended with an error (the client's own abort included). */
  readonly error: ConnectError | undefined;
  readonly done: boolean;
  /** Resolves when the stream has ended, however it ended. */
  readonly finished: Promise<void>;
  /** The client goes away (aborts the call). */
  abort(): void;
}

export function openWatch(client: Client<typeof ConversationService>, request: MessageInitShape<typeof WatchEventsRequestSchema> = {}): OpenWatch {
  const controller = new AbortController();
  const events: Event[] = [];
  let error: ConnectError | undefined;
  let done = false;
  const finished = (async () => {
    try {
      for await (const response of client.watchEvents(request, { signal: controller.signal })) events.push(response.event!);
    } catch (e) {
      error = ConnectError.from(e);
    } finally {
      done = true;
    }
  })();
  return {
    events,
    ids: () => events.map((e) => e.eventId),
    get error() {
      return error;
    },
    get done() {
      return done;
    },
    finished,
    abort: () => controller.abort(),
  };
}


/** Waits until the watch has received at least `n` events and returns their ids. */
export function receivedIds(watch: OpenWatch, n: number, what = `${n} events`): Promise<string[]> {
  return eventually(what, () => {
    if (watch.done && watch.events.length < n) throw new Error(`the stream ended after ${watch.events.length} events: ${watch.error?.message ?? "OK"}`);
    return watch.events.length >= n ? watch.ids() : undefined;
  });
}
