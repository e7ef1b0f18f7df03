/**
 * Who a WhatsApp user is, for this service (ADR 0007). Since usernames,
 * Meta names a user by a business-scoped user id (BSUID, `user_id` /
 * `from_user_id`), by a WhatsApp id (`wa_id` / `from`, the phone number's
 * digits), or by both. A contact holds either or both; each identifier
 * belongs to at most one contact of a tenant. When a delivery names both and
 * they point at two contacts, those two are the same person: they are
 * merged into one (the older survives, the history moves to it).
 */
import type { ContactProfile, InboundMessage } from "./inbound.js";

/**
 * A BSUID: an ISO 3166 alpha-2 country code, a period, then up to 128
 * alphanumerics; a parent BSUID has `ENT.` after the country
 * (`US.13491208655302741918`, `US.ENT.11815799212886844830`).
 */
export const BSUID_PATTERN = /^[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}$/;

export function isBsuid(value: string): boolean {
  return BSUID_PATTERN.test(value);
}

export function isParentBsuid(value: string): boolean {
  return isBsuid(value) && value.slice(3, 7) === "ENT.";
}

/** The identifiers one delivery gives for a user; at least one is set. */
export interface ContactIdentity {
  /** WhatsApp id, digits without "+". */
  waId?: string;
  bsuid?: string;
}

export function identityOfProfile(profile: ContactProfile): ContactIdentity {
  return { waId: profile.waId === "" ? undefined : profile.waId, bsuid: profile.userId };
}

/**
 * Keys naming the sender of a message: deliveries sharing one are about the
 * same user and must be applied one after another (the inbox worker's lanes,
 * set-wise runs). A message naming both identifiers gives both keys.
 */
export function senderKeys(message: Pick<InboundMessage, "waId" | "fromUserId">): string[] {
  const keys: string[] = [];
  if (message.waId !== "") keys.push(`wa:${message.waId}`);
  if (message.fromUserId) keys.push(`bsuid:${message.fromUserId}`);
  return keys;
}

/** Keys of the identifiers, as the advisory locks of contact linking take them. */
export function identityKeys(identity: ContactIdentity): string[] {
  const keys: string[] = [];
  if (identity.waId) keys.push(`wa:${identity.waId}`);
  if (identity.bsuid) keys.push(`bsuid:${identity.bsuid}`);
  return keys;
}

/** A contact as far as linking is concerned. */
export interface LinkCandidate {
  id: string;
  firstSeenTime: Date;
}

/** What to do with a delivery's identifiers, given the contacts each one finds. */
export type LinkPlan =
  | { kind: "create" }
  | { kind: "update"; contactId: string }
  /** Two contacts are one person: `absorbedId` moves into `survivorId`, then the survivor is updated. */
  | { kind: "merge"; survivorId: string; absorbedId: string };

/**
 * The one rule: no contact → create one; one contact (found by either
 * identifier, or by both) → it, filling in what it lacks; two different
 * contacts → merge, the one seen first surviving (ties broken by id, so every
 * replica picks the same one).
 */
export function planLink(byWaId: LinkCandidate | undefined, byBsuid: LinkCandidate | undefined): LinkPlan {
  if (!byWaId && !byBsuid) return { kind: "create" };
  if (!byWaId || !byBsuid || byWaId.id === byBsuid.id) return { kind: "update", contactId: (byWaId ?? byBsuid)!.id };
  const [survivor, absorbed] = olderFirst(byWaId, byBsuid);
  return { kind: "merge", survivorId: survivor.id, absorbedId: absorbed.id };
}

function olderFirst(a: LinkCandidate, b: LinkCandidate): [LinkCandidate, LinkCandidate] {
  const diff = a.firstSeenTime.getTime() - b.firstSeenTime.getTime();
  if (diff < 0 || (diff === 0 && a.id < b.id)) return [a, b];
  return [b, a];
}

/** System notices that move a user to a new WhatsApp id (and, per Meta, a new BSUID). */
export const NUMBER_CHANGE_TYPES: ReadonlySet<string> = new Set(["user_changed_number", "customer_changed_number"]);

/** The identifiers a number-change notice moves the sender to, or undefined when it is not one. */
export function numberChange(message: InboundMessage): ContactIdentity | undefined {
  const content = message.content;
  if (content?.kind !== "system" || !NUMBER_CHANGE_TYPES.has(content.system.type)) return undefined;
  const waId = content.system.newWaId;
  const bsuid = content.system.newUserId;
  if (!waId && !bsuid) return undefined;
  return { waId, bsuid };
}
