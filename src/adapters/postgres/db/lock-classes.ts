/**
 * The one registry of advisory lock classes: the first key of PostgreSQL's
 * two-int advisory locks ("wa" = 0x7761, then a number). Every class here
 * must differ from the others, or unrelated work would contend (a wamid
 * whose hash equals a leader role would block the relay's leadership).
 * Locks keyed by one bigint hash (template drafts, OTP keys) live in the
 * other key space and cannot collide with these.
 */
export const LockClass = {
  /** The migrator, control schema (migrator.ts). */
  migrateControl: 0x7761_0001,
  /** The migrator, one tenant schema (migrator.ts). */
  migrateTenant: 0x7761_0002,
  /** Leadership of a singleton worker, second key its role (leader-lock.ts). */
  leader: 0x7761_0003,
  /** Status work on one wamid, second key hashtext(wamid) (inbox/inbound-store.ts). */
  wamid: 0x7761_0004,
  /** Find-or-link of one contact identifier (stores/contact-linking.ts). */
  contactIdentity: 0x7761_0005,
  /** Creating the template sync's schedule row (stores/template-sync-schedule.ts). */
  templateSyncSchedule: 0x7761_0007,
} as const;
