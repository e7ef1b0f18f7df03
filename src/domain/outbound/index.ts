export * from "./content.js";
export { toGraphMessage, type GraphMessage } from "./graph-message.js";
export { charLength, LIMITS } from "./limits.js";
export { readGraphMessage, replyWamidOf } from "./read-graph-message.js";
export { describeRecipient, normaliseRecipient, parseRecipient, recipientAddress, type Recipient } from "./recipient.js";
export { validateSendRequest, type SendRequest } from "./send-request.js";
export { isSingleEmoji, validateContent } from "./validate-content.js";
export type { AccountQueueStats, ConversationForSend, RecipientContact, SendingAccount, StoredMessage } from "./stored-message.js";
export { displayTextOf } from "./display-text.js";
