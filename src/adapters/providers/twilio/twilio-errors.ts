/**
 * Twilio's error codes that matter to sending (reference §9.4 and Twilio's
 * error dictionary), with their titles. How each is handled (retry,
 * permanent, pause the account) is the send policy's table
 * (`domain/send-policy.ts`), keyed on the code as Twilio reports it.
 */
export const TWILIO_ERROR_TITLES: Readonly<Record<number, string>> = {
  20003: "Authentication failed",
  20404: "The requested resource was not found",
  20429: "Too many requests",
  21211: "Invalid 'To' phone number",
  21408: "Permission to send to this region has not been enabled",
  21610: "Attempt to send to unsubscribed recipient",
  21614: "'To' number is not a valid mobile number",
  21656: "The ContentVariables parameter is invalid",
  30008: "Unknown error",
  63003: "Channel could not find To address",
  63016: "Outside messaging window. For WhatsApp, use a Message Template instead",
  63017: "Rate limit exceeded for account",
  63018: "Rate limit exceeded for Channel",
  63021: "Channel invalid content error",
  63024: "Invalid message recipient",
  63038: "Account exceeded the daily messages limit",
};
