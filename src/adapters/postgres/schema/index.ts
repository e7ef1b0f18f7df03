export { accounts, bytea, control, jobs, outbox, tenants, webhookInbox } from "./control.js";
export {
  contacts,
  conversations,
  MESSAGE_DIRECTIONS,
  MESSAGE_STATUSES,
  messages,
  type MessageDirection,
  type MessageStatus,
} from "./tenant.js";
