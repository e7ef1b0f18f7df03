/**
 * Checks a content against WhatsApp's rules before it is queued. Every
 * violation names the SendMessage field path (`text.body`, `media.caption`…);
 * an empty list means the content can be sent as it is.
 */
import type { FieldViolation } from "../errors.js";
import type { ContactsContent, MediaContent, OutboundContent, ReactionContent } from "./content.js";
import { validateLocation, validateMediaSource } from "./validate-common.js";
import { LIMITS } from "./limits.js";
import { validateInteractive } from "./validate-interactive.js";
import { validateTemplate } from "./validate-template.js";
import { Violations } from "./violations.js";

export function validateContent(content: OutboundContent): FieldViolation[] {
  const v = new Violations();
  switch (content.kind) {
    case "text":
      v.text("text.body", content.body, LIMITS.textBody, true);
      break;
    case "media":
      validateMedia(v, content);
      break;
    case "location":
      validateLocation(v, "location", content);
      break;
    case "contacts":
      validateContacts(v, content);
      break;
    case "interactive":
      validateInteractive(v, content);
      break;
    case "reaction":
      validateReaction(v, content);
      break;
    case "template":
      validateTemplate(v, content);
      break;
  }
  return v.list;
}

const CAPTIONED = new Set(["image", "video", "document"]);

function validateMedia(v: Violations, media: MediaContent): void {
  validateMediaSource(v, "media", media.source);
  if (media.caption !== "" && !CAPTIONED.has(media.mediaKind)) v.add("media.caption", "is only allowed for image, video and document");
  else v.text("media.caption", media.caption, LIMITS.caption);
  if (media.filename !== "" && media.mediaKind !== "document") v.add("media.filename", "is only allowed for document");
  else v.text("media.filename", media.filename, LIMITS.filename);
}

function validateContacts(v: Violations, content: ContactsContent): void {
  v.count("contacts.contacts", content.cards.length, 1, LIMITS.contactsPerMessage, "contact cards");
  content.cards.forEach((card, i) => {
    const at = `contacts.contacts[${i}]`;
    v.text(`${at}.name.formatted_name`, card.name?.formattedName ?? "", 256, true);
    for (const list of ["phones", "emails", "addresses", "urls"] as const) {
      v.count(`${at}.${list}`, card[list].length, 0, LIMITS.contactCardEntries, list);
    }
    card.phones.forEach((phone, j) => {
      if (phone.waId && !/^[1-9]\d{5,14}$/.test(phone.waId)) v.add(`${at}.phones[${j}].wa_id`, "must be a WhatsApp id (digits, no +)");
      if ((phone.phone ?? "") === "" && !phone.waId) v.add(`${at}.phones[${j}].phone`, "is required");
    });
    card.emails.forEach((email, j) => {
      if (!/^[^\s@]+@[^\s@]+$/.test(email.email ?? "")) v.add(`${at}.emails[${j}].email`, "must be an email address");
    });
    if (card.birthday !== undefined && card.birthday !== "" && !isCalendarDate(card.birthday)) {
      v.add(`${at}.birthday`, "must be a date as YYYY-MM-DD");
    }
  });
}

function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}

/** One emoji (a single grapheme that is a pictograph or a flag), or "" to remove a reaction. */
function validateReaction(v: Violations, reaction: ReactionContent): void {
  v.text("reaction.message_id", reaction.messageRef, LIMITS.reactionMessageRef, true);
  if (reaction.emoji !== "" && !isSingleEmoji(reaction.emoji)) v.add("reaction.emoji", "must be a single emoji (or empty to remove the reaction)");
}

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

export function isSingleEmoji(value: string): boolean {
  const graphemes = [...segmenter.segment(value)];
  return graphemes.length === 1 && /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20E3/u.test(value);
}
