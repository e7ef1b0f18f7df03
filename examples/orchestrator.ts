/**
 * The orchestrator's side of a send, on @grpc/grpc-js with the repo's
 * generated clients (clients/grpc-js):
 *
 *   1. create a SANDBOX account (no credentials needed);
 *   2. open a durable JetStream consumer on the tenant's message.status events;
 *   3. watch the same events through ConversationService.WatchEvents;
 *   4. send a template with an idempotency key (and show that a retry of
 *      the same request returns the first message);
 *   5. follow the message to READ on both paths: the consumer decodes each
 *      protobuf event (clients/events.ts) and acks it explicitly; the watch
 *      drops its connection after the first status and resumes with
 *      after_event_id, as a client does after a network blip.
 *
 * Run against `NATS_URL=nats://127.0.0.1:4222 npm start`:
 *
 *   npm run example:orchestrator
 *
 * Flags: --durable NAME (consumer name, default "orchestrator"),
 * --stop-after N (stop the consumer after N statuses, like a crash),
 * --message-id ID (skip 1–4 and resume following that message with the
 * durable consumer: it continues after the last status acked).
 * Environment: see examples/support.ts. The consumer's subject names the
 * tenant, so with a token set WHATSAPP_TENANT to the token's tenant too.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { status as GrpcStatus, type Metadata, type ServiceError } from "@grpc/grpc-js";

import { decodeEvent } from "../clients/events.js";
import { AccountServiceClient, CreateAccountRequest, Provider } from "../clients/grpc-js/whatsapp/v1/account.js";
import { ConversationServiceClient, WatchEventsRequest, type WatchEventsResponse } from "../clients/grpc-js/whatsapp/v1/conversation.js";
import { EventType } from "../clients/grpc-js/whatsapp/v1/events.js";
import { messageStatusToJSON } from "../clients/grpc-js/whatsapp/v1/message.js";
import { MessagingServiceClient, SendMessageRequest } from "../clients/grpc-js/whatsapp/v1/messaging.js";
import { MessageStatus } from "../gen/whatsapp/v1/message_pb.js";
import { callerMetadata, flag, grpcTarget, loadExampleConfig, report, unary, type ExampleConfig } from "./support.js";

const FINAL = new Set(["READ", "FAILED"]);

async function main(): Promise<void> {
  const config = loadExampleConfig();
  const durable = flag("durable") ?? "orchestrator";
  const stopAfter = Number(flag("stop-after") ?? Infinity);
  const resumeMessageId = flag("message-id");
  const { address, credentials } = grpcTarget(config);
  // One channel per client object; grpc-js shares the connection between
  // clients of the same target and options.
  const accounts = new AccountServiceClient(address, credentials);
  const messaging = new MessagingServiceClient(address, credentials);
  const conversations = new ConversationServiceClient(address, credentials);
  const metadata = callerMetadata(config);

  try {
    const consumer = await openConsumer(config, durable);
    if (resumeMessageId !== undefined) {
      report("resume", { messageId: resumeMessageId, durable });
      await consumer.follow(resumeMessageId, stopAfter);
      return;
    }

    const { account } = await unary(
      accounts.createAccount.bind(accounts),
      CreateAccountRequest.fromPartial({
        account: { provider: Provider.PROVIDER_SANDBOX, phoneNumberId: `sandbox-${Date.now().toString(36)}`, displayName: "Orchestrator example" },
      }),
      metadata,
    );
    report("account", { accountId: account!.id });

    // Before the send, so its first status is not missed ("from now").
    const watched = watchStatuses(conversations, metadata, account!.id);

    const send = SendMessageRequest.fromPartial({
      accountId: account!.id,
      to: "+14155552671",
      content: { $case: "template", template: { name: "hello_world", language: "en_US" } },
      // A retry after a timeout must not send twice: same key, same message.
      idempotencyKey: `orchestrator-example-${account!.id}`,
      metadata: { order: "example-1" },
    });
    const first = await unary(messaging.sendMessage.bind(messaging), send, metadata);
    const repeat = await unary(messaging.sendMessage.bind(messaging), send, metadata);
    const messageId = first.message!.id;
    report("sent", { messageId, status: messageStatusToJSON(first.message!.status), repeatDuplicate: repeat.duplicate, repeatMessageId: repeat.message!.id });

    await Promise.all([consumer.follow(messageId, stopAfter), watched.follow(messageId)]);
  } finally {
    accounts.close();
    messaging.close();
    conversations.close();
  }
}

/**
 * A durable pull consumer on the tenant's message.status subject. Created
 * once (deliver new: only events after it exists); every later run with the
 * same name continues where the last acked one left off.
 */
async function openConsumer(config: ExampleConfig, durable: string) {
  const nc = await connect({ servers: config.natsUrl, name: "orchestrator-example" });
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add(config.natsStream, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.New,
    filter_subject: `whatsapp.${config.tenant}.message.status`,
    ack_wait: 30_000_000_000, // ns: an unacked event comes back after 30 s
  });
  const consumer = await jetstream(nc).consumers.get(config.natsStream, durable);
  return {
    async follow(messageId: string, stopAfter: number): Promise<void> {
      try {
        let seen = 0;
        for (;;) {
          // One message per pull: nothing sits unacked in a client buffer
          // when the process stops, so a restart neither waits for ack_wait
          // nor sees an event twice.
          const m = await consumer.next({ expires: 5_000 });
          if (m === null) continue;
          const decoded = decodeEvent(m);
          if (decoded?.type === "message.status" && decoded.event.messageId === messageId) {
            const status = MessageStatus[decoded.event.status];
            // Ack after handling, and wait for the server to confirm it: an
            // ack lost on the way would bring the event back to the next run.
            await m.ackAck();
            seen++;
            report("nats", { status, eventId: m.headers?.get("Nats-Msg-Id"), streamSeq: m.seq, redelivered: m.redelivered });
            if (FINAL.has(status) || seen >= stopAfter) {
              report("consumer-stopped", { durable, afterStatuses: seen });
              return;
            }
          } else {
            await m.ackAck(); // another message's status, or a type this build does not know
          }
        }
      } finally {
        await nc.close();
      }
    },
  };
}

/**
 * message.status events of the account through WatchEvents. After the first
 * status the connection is dropped on purpose and the watch resumes after
 * the last event id received: nothing is missed, nothing comes twice.
 */
function watchStatuses(client: ConversationServiceClient, metadata: Metadata, accountId: string) {
  const received: { eventId: string; messageId: string; status: string }[] = [];
  let lastEventId = "";
  let connection = 0;
  let target: string | undefined;
  let dropped = false;
  let wake: (() => void) | undefined;
  let failure: unknown;
  let current: ReturnType<typeof client.watchEvents> | undefined;
  const done = () => target !== undefined && received.some((r) => r.messageId === target && FINAL.has(r.status));

  const open = () => {
    connection++;
    const call = client.watchEvents(
      WatchEventsRequest.fromPartial({ types: [EventType.EVENT_TYPE_MESSAGE_STATUS], accountId, afterEventId: lastEventId }),
      metadata,
    );
    if (lastEventId !== "") report("watch-resumed", { afterEventId: lastEventId, connection });
    call.on("data", ({ event }: WatchEventsResponse) => {
      if (event?.payload?.$case !== "messageStatus") return;
      const payload = event.payload.messageStatus;
      lastEventId = event.eventId;
      const status = messageStatusToJSON(payload.status).replace("MESSAGE_STATUS_", "");
      received.push({ eventId: event.eventId, messageId: payload.messageId, status });
      report("watch", { status, eventId: event.eventId, connection });
      if (!dropped && !FINAL.has(status)) {
        dropped = true;
        call.cancel(); // the "network blip"
      }
      wake?.();
    });
    call.on("error", (error: ServiceError) => {
      if (error.code === GrpcStatus.CANCELLED && (dropped || done())) {
        if (!done()) open();
        return;
      }
      // UNAVAILABLE (server restarting, draining): resume after the last event.
      if (error.code === GrpcStatus.UNAVAILABLE) return void setTimeout(open, 500);
      failure = error;
      wake?.();
    });
    current = call;
  };
  open();

  return {
    async follow(messageId: string): Promise<void> {
      target = messageId;
      while (!done()) {
        if (failure) throw failure;
        await new Promise<void>((resolve) => (wake = resolve));
      }
      current?.cancel();
      const mine = received.filter((r) => r.messageId === messageId);
      report("watch-done", { statuses: mine.map((r) => r.status), connections: connection });
    },
  };
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    report("error", { message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  },
);
