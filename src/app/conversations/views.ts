import { serviceWindowAt, type ServiceWindow } from "../../domain/service-window.js";
import type { ConversationRecord } from "../../ports/conversation-store.js";

/** A conversation as the API shows it: with its 24-hour window computed at read time. */
export interface ConversationView extends ConversationRecord {
  window: ServiceWindow;
}

export function viewOf(record: ConversationRecord, now: Date): ConversationView {
  return { ...record, window: serviceWindowAt(record.windowFrom, now) };
}

/** A page of a list and the token for the next one ("" on the last page). */
export interface Page<T> {
  items: T[];
  nextPageToken: string;
}

/** The WhatsApp id of an E.164 number given with or without "+". */
export function waIdOfPhone(phone: string): string {
  return phone.trim().replace(/^\+/, "");
}
