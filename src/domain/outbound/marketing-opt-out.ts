import { DomainError } from "../errors.js";
import type { SendPriority } from "../priority.js";

/**
 * A contact who opted out (an opt-out keyword, Meta's user_preferences
 * "stop") gets no marketing: no MARKETING template and nothing sent at
 * priority marketing. Utility and authentication templates, and replies
 * within the service window, still go. The one statement of the rule:
 * SendMessage and StartConversation both ask it.
 */
export function assertMarketingAllowed(
  contact: { optedOut: boolean } | undefined,
  send: { priority: SendPriority; templateCategory: string | undefined },
  /** How the refusal names the contact: its E.164 number, or its BSUID when it has no number. */
  who: string,
): void {
  if (!contact?.optedOut) return;
  if (send.priority !== "marketing" && send.templateCategory !== "MARKETING") return;
  throw new DomainError(
    "failed_precondition",
    "CONTACT_OPTED_OUT",
    `the contact ${who} opted out of marketing messages; send a utility or authentication template, or a reply within the service window`,
  );
}
