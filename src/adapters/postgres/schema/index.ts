export { accounts, bytea, control, jobs, outbox, tenants, webhookInbox, webhookUnroutable } from "./control.js";
export {
  contacts,
  CONVERSATION_STATUSES,
  conversations,
  type ConversationStatusName,
  MESSAGE_DIRECTIONS,
  MESSAGE_STATUSES,
  messages,
  pendingStatuses,
  providerUpdates,
  sendIdempotencyKeys,
  type MessageDirection,
  type MessageStatus,
} from "./tenant.js";
