export { contactToPb, conversationToPb, SERVICE_WINDOW_MS } from "./contact-pb.js";
export { conversationClosedToOutbox } from "./conversation-closed-pb.js";
export { toOutboxEvent } from "./inbound-events-pb.js";
export { inboundMessageToPb, providerErrorToPb } from "./inbound-message-pb.js";
export { conversationSourceToPb, conversationStatusToPb, messageStatusToPb, messageTypeToPb, providerToPb } from "./message-enums.js";
