/**
 * Find-or-link of contacts by WhatsApp id and BSUID (ADR 0007), in the
 * tenant transaction (search_path set).
 *
 * Race safety: before reading, the transaction takes an advisory lock per
 * identifier it names (class CONTACT_LOCK_CLASS, key hashtext of "wa:<id>" /
 * "bsuid:<id>"), all at once and in one global order (by key), so two
 * deliveries naming a common identifier — on any replica — run their
 * find-or-link one after the other, and never deadlock on these locks. The
 * read that follows is a new statement, so (READ COMMITTED) it sees what the
 * previous holder committed. The unique indexes on wa_id and on bsuid are the
 * backstop: a writer that skipped the locks fails rather than duplicating.
 */
import { LockClass } from "../db/lock-classes.js";
import { planLink, identityKeys, identityOfProfile, type ContactIdentity, type LinkCandidate } from "../../../domain/contact-identity.js";
import { waIdToE164, type ContactProfile } from "../../../domain/inbound.js";
import type { ContactSnapshot } from "../../../domain/inbound-events.js";
import type { Database } from "../db/database.js";
import { contactFromRow } from "./inbound-rows.js";
import { hot, preparedRows } from "../db/prepared-query.js";
import { CONTACT_RETURNED, contactRowFromReturned, type ContactReturned } from "../db/returned-rows.js";

/** Advisory lock class of contact identifiers (registered in db/lock-classes.ts). */
export const CONTACT_LOCK_CLASS = LockClass.contactIdentity;

export interface ContactInput {
  profile: ContactProfile;
  seenAt: Date;
}

export interface LinkedContact {
  contact: ContactSnapshot;
  created: boolean;
}

/** Takes the identifier locks of every identity at once, in one global order (reentrant: taking one twice costs nothing). */
export async function lockIdentities(tx: Database, identities: readonly ContactIdentity[]): Promise<void> {
  const keys = [...new Set(identities.flatMap(identityKeys))];
  if (keys.length === 0) return;
  await preparedRows(tx, hot`with keys as materialized (
      select distinct hashtext(k) as h from unnest(${keys}::text[]) as k order by h
    )
    select count(pg_advisory_xact_lock(${CONTACT_LOCK_CLASS}::integer, h)) from keys`);
}

/**
 * The contact of each input, created, completed or merged per `planLink`;
 * results in input order. `upsertByWaId` is the set-wise upsert on wa_id,
 * used (after the locks) when every input has a wa id and no BSUID points
 * elsewhere — the common case stays one statement.
 */
export async function findOrLinkContacts(
  tx: Database,
  inputs: readonly ContactInput[],
  newId: () => string,
  upsertByWaId: (inputs: readonly ContactInput[]) => Promise<LinkedContact[]>,
): Promise<LinkedContact[]> {
  if (inputs.length === 0) return [];
  const identities = inputs.map((i) => identityOfProfile(i.profile));
  await lockIdentities(tx, identities);
  // Without a BSUID there is nothing to link: each input is its wa id's contact (one statement).
  if (identities.every((i) => i.bsuid === undefined && i.waId !== undefined) && new Set(identities.map((i) => i.waId)).size === identities.length) {
    return upsertByWaId(inputs);
  }
  const existing = await contactsNamedBy(tx, identities);
  const byWa = new Map(existing.filter((c) => c.waId !== "").map((c) => [c.waId, c]));
  const byBsuid = new Map(existing.filter((c) => c.userId !== "").map((c) => [c.userId, c]));
  const keys = identities.flatMap(identityKeys);
  const simple =
    new Set(keys).size === keys.length &&
    identities.every(({ waId, bsuid }) => waId !== undefined && (bsuid === undefined || (byBsuid.get(bsuid)?.id ?? byWa.get(waId)?.id) === byWa.get(waId)?.id));
  if (simple) return upsertByWaId(inputs);
  const results: LinkedContact[] = [];
  for (const [i, input] of inputs.entries()) results.push(await linkOne(tx, input, identities[i]!, newId));
  return results;
}

async function linkOne(tx: Database, input: ContactInput, identity: ContactIdentity, newId: () => string): Promise<LinkedContact> {
  const found = await contactsNamedBy(tx, [identity]);
  const byWa = identity.waId === undefined ? undefined : found.find((c) => c.waId === identity.waId);
  const byBsuid = identity.bsuid === undefined ? undefined : found.find((c) => c.userId === identity.bsuid);
  const plan = planLink(candidate(byWa), candidate(byBsuid));
  if (plan.kind === "create") return { contact: await insertContact(tx, input, identity, newId()), created: true };
  if (plan.kind === "merge") await mergeContacts(tx, plan.survivorId, plan.absorbedId);
  const contactId = plan.kind === "merge" ? plan.survivorId : plan.contactId;
  return { contact: await updateContact(tx, contactId, input, identity), created: false };
}

/**
 * A number change (Meta `user_changed_number`): the contact takes the new
 * identifiers; a contact already holding one of them (the user wrote from
 * the new number first) is merged into it, so the history stays together.
 */
export async function relinkContact(tx: Database, contactId: string, to: ContactIdentity, at: Date): Promise<ContactSnapshot> {
  await lockIdentities(tx, [to]);
  for (const other of await contactsNamedBy(tx, [to])) if (other.id !== contactId) await mergeContacts(tx, contactId, other.id);
  const [row] = await preparedRows<ContactReturned>(
    tx,
    hot`update contacts as contacts set
          wa_id = coalesce(${to.waId ?? null}::text, contacts.wa_id),
          phone_e164 = coalesce(${to.waId === undefined ? null : waIdToE164(to.waId) || null}::text, contacts.phone_e164),
          bsuid = coalesce(${to.bsuid ?? null}::text, contacts.bsuid),
          last_seen_time = greatest(contacts.last_seen_time, ${at.toISOString()}::timestamptz),
          update_time = now()
        where id = ${contactId}::uuid
        returning ${CONTACT_RETURNED}`,
  );
  if (!row) throw new Error(`contact ${contactId} vanished`);
  return contactFromRow(contactRowFromReturned(row));
}

function candidate(contact: ContactSnapshot | undefined): LinkCandidate | undefined {
  return contact && { id: contact.id, firstSeenTime: contact.firstSeenTime };
}

async function contactsNamedBy(tx: Database, identities: readonly ContactIdentity[]): Promise<ContactSnapshot[]> {
  const waIds = identities.flatMap((i) => (i.waId ? [i.waId] : []));
  const bsuids = identities.flatMap((i) => (i.bsuid ? [i.bsuid] : []));
  const rows = await preparedRows<ContactReturned>(
    tx,
    hot`select ${CONTACT_RETURNED} from contacts
         where wa_id = any(${waIds}::text[]) or bsuid = any(${bsuids}::text[])
         order by first_seen_time, id
           for update`,
  );
  return rows.map((row) => contactFromRow(contactRowFromReturned(row)));
}

async function insertContact(tx: Database, input: ContactInput, identity: ContactIdentity, id: string): Promise<ContactSnapshot> {
  const p = input.profile;
  const seen = input.seenAt.toISOString();
  const [row] = await preparedRows<ContactReturned>(
    tx,
    hot`insert into contacts (id, wa_id, phone_e164, profile_name, bsuid, parent_bsuid, username, identity_key_hash, first_seen_time, last_seen_time)
        values (${id}::uuid, ${identity.waId ?? null}::text, ${identity.waId === undefined ? null : waIdToE164(identity.waId) || null}::text,
          ${p.profileName ?? null}::text, ${identity.bsuid ?? null}::text, ${p.parentUserId ?? null}::text, ${p.username ?? null}::text,
          ${p.identityKeyHash ?? null}::text, ${seen}::timestamptz, ${seen}::timestamptz)
        returning ${CONTACT_RETURNED}`,
  );
  if (!row) throw new Error("contact insert returned no row");
  return contactFromRow(contactRowFromReturned(row));
}

/** The same rules as the wa_id upsert: the latest message's name and username win; identifiers are filled in. */
async function updateContact(tx: Database, contactId: string, input: ContactInput, identity: ContactIdentity): Promise<ContactSnapshot> {
  const p = input.profile;
  const seen = input.seenAt.toISOString();
  const [row] = await preparedRows<ContactReturned>(
    tx,
    hot`update contacts as contacts set
          wa_id = coalesce(${identity.waId ?? null}::text, contacts.wa_id),
          phone_e164 = coalesce(contacts.phone_e164, ${identity.waId === undefined ? null : waIdToE164(identity.waId) || null}::text),
          profile_name = case when ${seen}::timestamptz >= contacts.last_seen_time
            then coalesce(${p.profileName ?? null}::text, contacts.profile_name) else coalesce(contacts.profile_name, ${p.profileName ?? null}::text) end,
          bsuid = coalesce(${identity.bsuid ?? null}::text, contacts.bsuid),
          parent_bsuid = coalesce(${p.parentUserId ?? null}::text, contacts.parent_bsuid),
          username = case when ${seen}::timestamptz >= contacts.last_seen_time
            then coalesce(${p.username ?? null}::text, contacts.username) else coalesce(contacts.username, ${p.username ?? null}::text) end,
          identity_key_hash = coalesce(${p.identityKeyHash ?? null}::text, contacts.identity_key_hash),
          first_seen_time = least(contacts.first_seen_time, ${seen}::timestamptz),
          last_seen_time = greatest(contacts.last_seen_time, ${seen}::timestamptz),
          update_time = now()
        where id = ${contactId}::uuid
        returning ${CONTACT_RETURNED}`,
  );
  if (!row) throw new Error(`contact ${contactId} vanished`);
  return contactFromRow(contactRowFromReturned(row));
}

/**
 * Moves everything of `absorbedId` to `survivorId` and deletes it: its
 * conversations and messages (and OTPs) now belong to the survivor; an open
 * conversation of it that would make two open ones for one account is
 * closed (reason `merged`), its messages kept. What the survivor lacks is
 * taken from the absorbed contact; an opt-out of either holds.
 */
export async function mergeContacts(tx: Database, survivorId: string, absorbedId: string): Promise<void> {
  await preparedRows(
    tx,
    hot`update conversations as c set status = 'closed', close_time = now(), close_reason = 'merged', update_time = now()
         where c.contact_id = ${absorbedId}::uuid and c.status <> 'closed'
           and exists (select 1 from conversations o where o.contact_id = ${survivorId}::uuid and o.account_id = c.account_id and o.status <> 'closed')`,
  );
  await preparedRows(tx, hot`update conversations set contact_id = ${survivorId}::uuid where contact_id = ${absorbedId}::uuid`);
  await preparedRows(tx, hot`update messages set contact_id = ${survivorId}::uuid where contact_id = ${absorbedId}::uuid`);
  await preparedRows(tx, hot`update otps set contact_id = ${survivorId}::uuid where contact_id = ${absorbedId}::uuid`);
  // Deleted first, so the survivor may take its identifiers (each is unique).
  await preparedRows(
    tx,
    hot`with gone as (delete from contacts where id = ${absorbedId}::uuid returning *)
        update contacts as s set
          wa_id = coalesce(s.wa_id, gone.wa_id),
          phone_e164 = coalesce(s.phone_e164, gone.phone_e164),
          bsuid = coalesce(s.bsuid, gone.bsuid),
          parent_bsuid = coalesce(s.parent_bsuid, gone.parent_bsuid),
          profile_name = coalesce(s.profile_name, gone.profile_name),
          username = coalesce(s.username, gone.username),
          identity_key_hash = coalesce(s.identity_key_hash, gone.identity_key_hash),
          opted_out = s.opted_out or gone.opted_out,
          first_seen_time = least(s.first_seen_time, gone.first_seen_time),
          last_seen_time = greatest(s.last_seen_time, gone.last_seen_time),
          update_time = now()
          from gone
         where s.id = ${survivorId}::uuid`,
  );
}
