import { and, asc, eq, gte, isNull, lt, sql, type SQL } from "drizzle-orm";
import type { PgUpdateSetSource } from "drizzle-orm/pg-core";

import {
  CREDENTIAL_NAMES,
  type Account,
  type AccountCredentials,
  type AccountMetrics,
  type AccountStatus,
  type CredentialName,
  type Provider,
} from "../../../domain/account.js";
import { DomainError } from "../../../domain/errors.js";
import type { AccountChanges, AccountPage, AccountRepository, NewAccount } from "../../../ports/account-repository.js";
import type { SecretBox } from "../../crypto/secret-box.js";
import type { Database } from "../db/database.js";
import { ensureTenant } from "../db/migrator.js";
import { accounts, tenants } from "../schema/control.js";
import { messages } from "../schema/tenant.js";
import { withTenant } from "../db/tenant-scope.js";

type AccountRow = typeof accounts.$inferSelect;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PG_TIMESTAMPTZ = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2}){0,2}|Z)?$/;
const MAX_PAGE_SIZE = 1000;
const DEFAULT_PAGE_SIZE = 50;

/**
 * Accounts in `control.accounts`, scoped by tenant id on every query.
 * Credentials are stored as `{ name: SecretBox.seal(value, "account:<id>:<name>") }`:
 * the associated data ties each ciphertext to its account and name, so a value
 * copied to another row or name does not decrypt.
 */
export class PostgresAccountRepository implements AccountRepository {
  readonly #db: Database;
  readonly #box: SecretBox;
  readonly #tenantDir: string | undefined;

  constructor(db: Database, box: SecretBox, opts: { tenantDir?: string | undefined } = {}) {
    this.#db = db;
    this.#box = box;
    this.#tenantDir = opts.tenantDir;
  }

  async create(account: NewAccount): Promise<Account> {
    await ensureTenant(this.#db, account.tenantId, { tenantDir: this.#tenantDir });
    const earlier = await this.#byRequestId(account.tenantId, account.requestId);
    if (earlier) return earlier;
    try {
      const [row] = await this.#db
        .insert(accounts)
        .values({
          id: account.id,
          tenantId: account.tenantId,
          provider: account.provider,
          displayName: account.displayName,
          phoneNumberId: account.phoneNumberId,
          wabaId: account.wabaId,
          displayPhoneNumber: account.displayPhoneNumber,
          businessId: account.businessId,
          rateLimitPerSecond: account.rateLimitPerSecond,
          status: account.status,
          credentials: this.#seal(account.id, account.credentials),
          metadata: account.metadata,
          requestId: account.requestId ?? null,
        })
        .returning();
      return toAccount(required(row));
    } catch (error) {
      // Two retries of the same create raced: the loser returns the winner's
      // account (whichever unique index — request id or phone number — fired first).
      if (findPgError(error)?.code === "23505") {
        const winner = await this.#byRequestId(account.tenantId, account.requestId);
        if (winner) return winner;
      }
      throw conflictError(error, account.phoneNumberId) ?? error;
    }
  }

  async #byRequestId(tenantId: string, requestId: string | undefined): Promise<Account | null> {
    if (requestId === undefined || requestId === "") return null;
    const [row] = await this.#db
      .select()
      .from(accounts)
      .where(and(eq(accounts.tenantId, tenantId), eq(accounts.requestId, requestId)))
      .limit(1);
    return row ? toAccount(row) : null;
  }

  async get(tenantId: string, id: string): Promise<Account | null> {
    if (!UUID.test(id)) return null;
    const [row] = await this.#db.select().from(accounts).where(live(tenantId, id)).limit(1);
    return row ? toAccount(row) : null;
  }

  async update(tenantId: string, id: string, changes: AccountChanges): Promise<Account | null> {
    if (!UUID.test(id)) return null;
    try {
      return await this.#db.transaction(async (tx) => {
        const [current] = await tx
          .select({ credentials: accounts.credentials })
          .from(accounts)
          .where(live(tenantId, id))
          .for("update");
        if (!current) return null;
        const set: PgUpdateSetSource<typeof accounts> = { updateTime: sql`now()` };
        if (changes.displayName !== undefined) set.displayName = changes.displayName;
        if (changes.phoneNumberId !== undefined) set.phoneNumberId = changes.phoneNumberId;
        if (changes.wabaId !== undefined) set.wabaId = changes.wabaId;
        if (changes.displayPhoneNumber !== undefined) set.displayPhoneNumber = changes.displayPhoneNumber;
        if (changes.businessId !== undefined) set.businessId = changes.businessId;
        if (changes.rateLimitPerSecond !== undefined) set.rateLimitPerSecond = changes.rateLimitPerSecond;
        if (changes.status !== undefined) set.status = changes.status;
        if (changes.metadata !== undefined) set.metadata = changes.metadata;
        if (changes.credentials !== undefined) {
          // Merge by name: a credential given replaces the stored one; the others stay.
          set.credentials = { ...current.credentials, ...this.#seal(id, changes.credentials) };
        }
        const [row] = await tx.update(accounts).set(set).where(live(tenantId, id)).returning();
        return row ? toAccount(row) : null;
      });
    } catch (error) {
      throw conflictError(error, changes.phoneNumberId ?? "") ?? error;
    }
  }

  async list(tenantId: string, pageSize: number, pageToken: string): Promise<AccountPage> {
    const size = pageSize <= 0 ? DEFAULT_PAGE_SIZE : Math.min(Math.floor(pageSize), MAX_PAGE_SIZE);
    const conditions: SQL[] = [eq(accounts.tenantId, tenantId), isNull(accounts.deleteTime)];
    if (pageToken !== "") {
      const cursor = decodePageToken(pageToken);
      conditions.push(sql`(${accounts.createTime}, ${accounts.id}) > (${cursor.createTime}::timestamptz, ${cursor.id}::uuid)`);
    }
    const rows = await this.#db
      .select({ account: accounts, cursorTime: sql<string>`${accounts.createTime}::text` })
      .from(accounts)
      .where(and(...conditions))
      .orderBy(asc(accounts.createTime), asc(accounts.id))
      .limit(size + 1);
    const page = rows.slice(0, size);
    const last = page[page.length - 1];
    return {
      accounts: page.map((r) => toAccount(r.account)),
      nextPageToken: rows.length > size && last ? encodePageToken({ createTime: last.cursorTime, id: last.account.id }) : "",
    };
  }

  async softDelete(tenantId: string, id: string): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const deleted = await this.#db
      .update(accounts)
      .set({ deleteTime: sql`now()`, updateTime: sql`now()` })
      .where(live(tenantId, id))
      .returning({ id: accounts.id });
    return deleted.length > 0;
  }

  async getCredentials(tenantId: string, id: string): Promise<AccountCredentials | null> {
    if (!UUID.test(id)) return null;
    const [row] = await this.#db
      .select({ credentials: accounts.credentials })
      .from(accounts)
      .where(live(tenantId, id))
      .limit(1);
    if (!row) return null;
    const out: AccountCredentials = {};
    for (const name of CREDENTIAL_NAMES) {
      const sealed = row.credentials[name];
      if (sealed === undefined) continue;
      try {
        out[name] = this.#box.open(sealed, credentialAssociatedData(id, name));
      } catch (cause) {
        throw new DomainError("internal", "CREDENTIALS_UNREADABLE", "stored credentials could not be decrypted", { cause });
      }
    }
    return out;
  }

  /**
   * Counts over the account's messages CREATED in [from, to) (for inbound
   * messages: received), each message counted by the furthest state it has
   * reached so far:
   * - sent: outbound and accepted by the provider — status sent, delivered or
   *   read, or a sent_time (so a message that failed after being sent counts
   *   as sent and as failed);
   * - delivered: outbound, status delivered or read, or a delivered_time;
   * - read: outbound, status read, or a read_time;
   * - failed: outbound with status failed;
   * - received: inbound.
   * So delivered ≤ sent and read ≤ sent. Zeros when the tenant has no schema
   * yet or the account has no messages.
   */
  async metrics(tenantId: string, accountId: string, from: Date, to: Date): Promise<AccountMetrics> {
    const zero: AccountMetrics = { sent: 0, delivered: 0, read: 0, failed: 0, received: 0 };
    if (!UUID.test(accountId)) return zero;
    const [tenant] = await this.#db.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, tenantId)).limit(1);
    if (!tenant) return zero;

    const outbound = sql`${messages.direction} = 'outbound'`;
    const count = (condition: SQL) => sql<number>`count(*) filter (where ${condition})`.mapWith(Number);
    const [row] = await withTenant(this.#db, tenantId, (tx) =>
      tx
        .select({
          sent: count(sql`${outbound} and (${messages.status} in ('sent', 'delivered', 'read') or ${messages.sentTime} is not null)`),
          delivered: count(sql`${outbound} and (${messages.status} in ('delivered', 'read') or ${messages.deliveredTime} is not null)`),
          read: count(sql`${outbound} and (${messages.status} = 'read' or ${messages.readTime} is not null)`),
          failed: count(sql`${outbound} and ${messages.status} = 'failed'`),
          received: count(sql`${messages.direction} = 'inbound'`),
        })
        .from(messages)
        .where(and(eq(messages.accountId, accountId), gte(messages.createTime, from), lt(messages.createTime, to))),
    );
    return row ?? zero;
  }

  #seal(accountId: string, credentials: AccountCredentials): Record<string, string> {
    const sealed: Record<string, string> = {};
    for (const name of CREDENTIAL_NAMES) {
      const value = credentials[name];
      // Undefined or empty means "not given" (proto3 strings have no null).
      if (value === undefined || value === "") continue;
      sealed[name] = this.#box.seal(value, credentialAssociatedData(accountId, name));
    }
    return sealed;
  }
}

/**
 * What a credential's ciphertext is bound to: it opens only for this account
 * and this credential name (see SecretBox). Shared by every reader of sealed
 * credentials.
 */
export function credentialAssociatedData(accountId: string, name: CredentialName): string {
  return `account:${accountId}:${name}`;
}

/** The tenant's account `id`, not soft-deleted. */
function live(tenantId: string, id: string): SQL | undefined {
  return and(eq(accounts.tenantId, tenantId), eq(accounts.id, id), isNull(accounts.deleteTime));
}

function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    tenantId: row.tenantId,
    provider: row.provider as Provider,
    displayName: row.displayName,
    phoneNumberId: row.phoneNumberId,
    wabaId: row.wabaId,
    displayPhoneNumber: row.displayPhoneNumber,
    businessId: row.businessId,
    rateLimitPerSecond: row.rateLimitPerSecond,
    status: row.status as AccountStatus,
    credentialsSet: CREDENTIAL_NAMES.filter((name) => row.credentials[name] !== undefined),
    metadata: { ...row.metadata },
    createTime: row.createTime,
    updateTime: row.updateTime,
    deleteTime: row.deleteTime,
  };
}

function required<T>(row: T | undefined): T {
  if (row === undefined) throw new Error("insert returned no row");
  return row;
}

interface PageCursor {
  /** create_time as PostgreSQL prints it (microseconds kept: a JS Date would lose them). */
  createTime: string;
  id: string;
}

function encodePageToken(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify([cursor.createTime, cursor.id]), "utf8").toString("base64url");
}

function decodePageToken(token: string): PageCursor {
  const invalid = () => DomainError.invalid([{ field: "page_token", description: "is not a token returned by a previous page" }]);
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(token)) throw invalid();
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw invalid();
  const [createTime, id] = parsed as unknown[];
  if (typeof createTime !== "string" || !PG_TIMESTAMPTZ.test(createTime)) throw invalid();
  if (typeof id !== "string" || !UUID.test(id)) throw invalid();
  return { createTime, id };
}

/** A unique violation on insert/update, as the DomainError the API shows; undefined for anything else. */
function conflictError(error: unknown, phoneNumberId: string): DomainError | undefined {
  const pg = findPgError(error);
  if (pg?.code !== "23505") return undefined;
  if (pg.constraint === "accounts_provider_phone_number_id_key") {
    return new DomainError(
      "already_exists",
      "PHONE_NUMBER_ALREADY_CONNECTED",
      `phone number id ${phoneNumberId} is already connected to an account`,
      { cause: error },
    );
  }
  if (pg.constraint === "accounts_pkey") {
    return new DomainError("already_exists", "ACCOUNT_ALREADY_EXISTS", "an account with this id already exists", { cause: error });
  }
  return undefined;
}

/** drizzle wraps driver errors (DrizzleQueryError.cause); postgres.js says `constraint_name`, PGlite `constraint`. */
function findPgError(error: unknown): { code: string; constraint: string | undefined } | undefined {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === "object" && depth < 5; depth += 1) {
    const record = e as { code?: unknown; constraint_name?: unknown; constraint?: unknown; cause?: unknown };
    if (typeof record.code === "string" && /^[0-9A-Z]{5}$/.test(record.code)) {
      const constraint = record.constraint_name ?? record.constraint;
      return { code: record.code, constraint: typeof constraint === "string" ? constraint : undefined };
    }
    e = record.cause;
  }
  return undefined;
}
