import type { OutboundContent } from "./content.js";

/** The message as one line for lists and AI consumers (Message.display_text). */
export function displayTextOf(content: OutboundContent): string {
  switch (content.kind) {
    case "text":
      return content.body;
    case "media":
      return content.caption;
    case "location":
      return content.name || content.address;
    case "contacts":
      return content.cards.map((c) => c.name?.formattedName ?? "").filter((n) => n !== "").join(", ");
    case "interactive":
      return content.body;
    case "reaction":
      return content.emoji;
    case "template":
      return `[template ${content.name}]`;
  }
}
