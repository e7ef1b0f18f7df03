/**
 * The TemplateStore port over PostgreSQL: `templates` (the latest version,
 * its review status and the approved content sends must match) and
 * `template_versions` (every version) in the tenant's schema. Status
 * changes that come from the provider are written with their
 * `template.status` event in the same transaction (template-reconcile.ts,
 * shared with the status-webhook reaction); row mapping in template-rows.ts.
 */
import { and, asc, eq, isNull, sql, type SQL } from "drizzle-orm";

import { DomainError } from "../../../domain/errors.js";
import { templateOwnerKey, type Template, type TemplateCategory, type TemplateContent, type TemplateStatus } from "../../../domain/templates/index.js";
import type { RemoteTemplate } from "../../../ports/template-provider.js";
import type { NewTemplate, SyncCounts, TemplateAccount, TemplatePage, TemplateQuery, TemplateStore } from "../../../ports/template-store.js";
import type { Provider } from "../../../domain/account.js";
import type { Database } from "../db/database.js";
import { appendEvents } from "../outbox/outbox.js";
import { hot, preparedRows } from "../db/prepared-query.js";
import { accounts } from "../schema/control.js";
import { templates, templateVersions } from "../schema/tenant.js";
import { tenantExists, withTenant } from "../db/tenant-scope.js";
import { applyProviderChange } from "./template-reconcile.js";
import { db, stored, templateFromRow, type StoredContent, type TemplateRow } from "./template-rows.js";

export { templateFromRow };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface TemplateStoreOptions {
  newId: () => string;
  /** Called after a commit that wrote events (wakes the outbox relay). */
  onEventsCommitted?: () => void;
}

export class PostgresTemplateStore implements TemplateStore {
  readonly #db: Database;
  readonly #options: TemplateStoreOptions;

  constructor(db: Database, options: TemplateStoreOptions) {
    this.#db = db;
    this.#options = options;
  }

  async insertDraft(tenantId: string, draft: NewTemplate, now: Date): Promise<{ template: Template; outcome: "created" | "draft_reused" | "conflict" }> {
    const owner = templateOwnerKey(draft.account);
    return withTenant(this.#db, tenantId, async (tx) => {
      // Serialises creates of one (WABA, name, language): the second waits and then sees the first.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`${owner} ${draft.name} ${draft.language}`}))`);
      const [existing] = await liveByName(tx, owner, draft.name, draft.language);
      if (existing && existing.status !== "DRAFT") return { template: templateFromRow(existing), outcome: "conflict" as const };
      if (existing) {
        const [row] = await tx
          .update(templates)
          .set({ category: draft.category, components: stored(draft), messageSendTtlSeconds: ttl(draft), updateTime: now })
          .where(eq(templates.id, existing.id))
          .returning();
        await tx
          .update(templateVersions)
          .set({ category: draft.category, components: stored(draft) })
          .where(and(eq(templateVersions.templateId, existing.id), eq(templateVersions.version, existing.version)));
        return { template: templateFromRow(row!), outcome: "draft_reused" as const };
      }
      const [row] = await tx
        .insert(templates)
        .values({
          id: draft.id,
          accountId: draft.account.id,
          wabaId: owner,
          name: draft.name,
          language: draft.language,
          category: draft.category,
          components: stored(draft),
          messageSendTtlSeconds: ttl(draft),
          status: "DRAFT",
          version: 1,
          createTime: now,
          updateTime: now,
          statusUpdateTime: now,
        })
        .returning();
      await tx.insert(templateVersions).values({ templateId: draft.id, version: 1, category: draft.category, components: stored(draft), status: "DRAFT", createTime: now });
      return { template: templateFromRow(row!), outcome: "created" as const };
    });
  }

  async get(tenantId: string, id: string): Promise<Template | undefined> {
    if (!UUID.test(id) || !(await tenantExists(this.#db, tenantId))) return undefined;
    const [row] = await withTenant(this.#db, tenantId, (tx) => tx.select().from(templates).where(and(eq(templates.id, id), isNull(templates.deleteTime))));
    return row && templateFromRow(row);
  }

  async find(tenantId: string, account: TemplateAccount, name: string, language: string): Promise<Template | undefined> {
    if (!(await tenantExists(this.#db, tenantId))) return undefined;
    const [row] = await withTenant(this.#db, tenantId, (tx) => liveByName(tx, templateOwnerKey(account), name, language));
    return row && templateFromRow(row);
  }

  async forSend(tenantId: string, accountId: string, name: string, language: string): Promise<{ account?: TemplateAccount; template?: Template }> {
    // SendMessage's check, on its hot path: two prepared statements (one round trip each). The
    // account first, outside the tenant transaction: a live account of the tenant also says that
    // the tenant has its schema, so no separate look-up of the tenant.
    if (!UUID.test(accountId)) return {};
    const [found] = await preparedRows<{ id: string; tenant_id: string; provider: string; waba_id: string; metadata: Record<string, string> | string | null }>(
      this.#db,
      hot`select id, tenant_id, provider, waba_id, metadata from ${accounts}
           where id = ${accountId}::uuid and tenant_id = ${tenantId} and delete_time is null
           limit 1`,
    );
    if (!found) return {};
    const account: TemplateAccount = { id: found.id, tenantId: found.tenant_id, provider: found.provider as Provider, wabaId: found.waba_id };
    // Only Twilio's check reads it: its Content SID mapping (ADR 0013).
    if (found.provider === "twilio") account.metadata = typeof found.metadata === "string" ? (JSON.parse(found.metadata) as Record<string, string>) : (found.metadata ?? {});
    const [row] = await withTenant(this.#db, tenantId, (tx) =>
      preparedRows<Record<string, unknown>>(
        tx,
        hot`select id, account_id, waba_id, name, language, category, components, message_send_ttl_seconds, meta_template_id, status,
                   rejected_reason, quality_score, version, approved_version, approved_components,
                   (extract(epoch from create_time) * 1000)::float8 as create_ms, (extract(epoch from update_time) * 1000)::float8 as update_ms,
                   (extract(epoch from status_update_time) * 1000)::float8 as status_update_ms
              from ${templates}
             where waba_id = ${templateOwnerKey(account)} and name = ${name} and language = ${language} and delete_time is null
             limit 1`,
      ),
    );
    return row ? { account, template: templateFromRow(templateRowFromReturned(row)) } : { account };
  }

  async list(tenantId: string, query: TemplateQuery): Promise<TemplatePage> {
    // A bad token is the caller's mistake whatever the tenant holds.
    const cursor = query.pageToken === "" ? undefined : decodeCursor(query.pageToken);
    if (!(await tenantExists(this.#db, tenantId))) return { templates: [], nextPageToken: "" };
    if (query.accountId !== undefined && !UUID.test(query.accountId)) return { templates: [], nextPageToken: "" };
    const conditions: SQL[] = [isNull(templates.deleteTime)];
    if (query.accountId !== undefined) {
      // An account sees its WABA's templates, whichever number created them.
      conditions.push(sql`(${templates.accountId} = ${query.accountId}::uuid or ${templates.wabaId} = (
        select case when a.waba_id <> '' then a.waba_id else 'account:' || a.id::text end from control.accounts a where a.id = ${query.accountId}::uuid and a.tenant_id = ${tenantId}))`);
    }
    if (query.name) conditions.push(eq(templates.name, query.name));
    if (query.language) conditions.push(eq(templates.language, query.language));
    if (query.category) conditions.push(eq(templates.category, query.category));
    if (query.status) conditions.push(eq(templates.status, db(query.status)));
    if (cursor) conditions.push(sql`(${templates.name}, ${templates.language}, ${templates.id}) > (${cursor[0]}, ${cursor[1]}, ${cursor[2]}::uuid)`);
    const rows = await withTenant(this.#db, tenantId, (tx) =>
      tx
        .select()
        .from(templates)
        .where(and(...conditions))
        .orderBy(asc(templates.name), asc(templates.language), asc(templates.id))
        .limit(query.pageSize + 1),
    );
    const page = rows.slice(0, query.pageSize);
    const last = page.at(-1);
    return {
      templates: page.map(templateFromRow),
      nextPageToken: rows.length > query.pageSize && last ? encodeCursor([last.name, last.language, last.id]) : "",
    };
  }

  async recordSubmission(
    tenantId: string,
    id: string,
    submission: { providerId: string; status: TemplateStatus; category?: TemplateCategory },
    now: Date,
  ): Promise<Template> {
    let event = false;
    const template = await withTenant(this.#db, tenantId, async (tx) => {
      const [current] = await tx.select().from(templates).where(eq(templates.id, id)).for("update");
      if (!current) throw DomainError.notFound("template", id);
      // A status webhook may have come first (the sandbox approves at once): it wins.
      const stillDraft = current.status === "DRAFT";
      const underReview = submission.status === "PENDING" || submission.status === "DRAFT";
      const [row] = await tx
        .update(templates)
        .set({
          metaTemplateId: submission.providerId,
          ...(stillDraft && underReview ? { status: "PENDING" as const, statusUpdateTime: now } : {}),
          ...(submission.category ? { category: submission.category } : {}),
          updateTime: now,
        })
        .where(eq(templates.id, id))
        .returning();
      if (!stillDraft) return templateFromRow(row!);
      if (underReview) {
        await tx
          .update(templateVersions)
          .set({ status: "PENDING" })
          .where(and(eq(templateVersions.templateId, id), eq(templateVersions.version, current.version)));
        return templateFromRow(row!);
      }
      // Decided at once (Meta approves some authentication templates on create; an adopted
      // template may be reviewed already): a status change like a webhook's — the approved
      // version sends must fill, and one template.status event.
      const outcome = await applyProviderChange(tx, {
        tenantId,
        row: row!,
        accountId: row!.accountId,
        wabaId: templateFromRow(row!).wabaId,
        view: { status: submission.status },
        providerEvent: submission.status,
        now,
        newId: this.#options.newId,
      });
      event = outcome.event;
      const [after] = await tx.select().from(templates).where(eq(templates.id, id));
      return templateFromRow(after!);
    });
    if (event) this.#options.onEventsCommitted?.();
    return template;
  }

  async removeDraft(tenantId: string, id: string): Promise<void> {
    await withTenant(this.#db, tenantId, async (tx) => {
      const [row] = await tx.select({ status: templates.status }).from(templates).where(eq(templates.id, id)).for("update");
      if (row?.status !== "DRAFT") return;
      await tx.delete(templateVersions).where(eq(templateVersions.templateId, id));
      await tx.delete(templates).where(eq(templates.id, id));
    });
  }

  async recordEdit(tenantId: string, id: string, content: TemplateContent, status: TemplateStatus, now: Date): Promise<Template> {
    return withTenant(this.#db, tenantId, async (tx) => {
      const [current] = await tx.select().from(templates).where(and(eq(templates.id, id), isNull(templates.deleteTime))).for("update");
      if (!current) throw DomainError.notFound("template", id);
      const version = current.version + 1;
      const [row] = await tx
        .update(templates)
        .set({
          category: content.category,
          components: stored(content),
          messageSendTtlSeconds: ttl(content),
          version,
          status: db(status),
          rejectedReason: null,
          updateTime: now,
          ...(status !== current.status ? { statusUpdateTime: now } : {}),
        })
        .where(eq(templates.id, id))
        .returning();
      await tx.insert(templateVersions).values({ templateId: id, version, category: content.category, components: stored(content), status, createTime: now });
      return templateFromRow(row!);
    });
  }

  /** Deleted here (after the provider): no longer found, listed or sendable; one `template.status` DELETED event. */
  async markDeleted(tenantId: string, id: string, now: Date): Promise<void> {
    const deleted = await withTenant(this.#db, tenantId, async (tx) => {
      const [current] = await tx.select().from(templates).where(and(eq(templates.id, id), isNull(templates.deleteTime))).for("update");
      if (!current) return false;
      await tx.update(templates).set({ status: "DELETED", deleteTime: now, updateTime: now, statusUpdateTime: now }).where(eq(templates.id, id));
      await tx
        .update(templateVersions)
        .set({ status: "DELETED" })
        .where(and(eq(templateVersions.templateId, id), eq(templateVersions.version, current.version)));
      // A DRAFT was never submitted: nobody was told about it.
      if (current.status === "DELETED" || current.status === "DRAFT") return false;
      const template = templateFromRow(current);
      await appendEvents(tx, [
        {
          kind: "template.status",
          eventId: this.#options.newId(),
          tenantId,
          accountId: template.accountId,
          occurredAt: now,
          wabaId: template.wabaId,
          templateId: template.id,
          metaTemplateId: template.metaTemplateId,
          name: template.name,
          language: template.language,
          category: template.category,
          status: "DELETED",
          previousStatus: template.status,
          reason: "",
          providerEvent: "DELETE_TEMPLATE",
          version: template.version,
        },
      ]);
      return true;
    });
    if (deleted) this.#options.onEventsCommitted?.();
  }

  /** `now`: when the provider's list was taken; rows changed after it are left to the next sync. */
  async reconcile(tenantId: string, account: TemplateAccount, remote: readonly RemoteTemplate[], now: Date): Promise<SyncCounts> {
    const owner = templateOwnerKey(account);
    let events = 0;
    const counts = await withTenant(this.#db, tenantId, async (tx) => {
      const counts: SyncCounts = { created: 0, updated: 0, deleted: 0, unchanged: 0 };
      const local = await tx.select().from(templates).where(and(eq(templates.wabaId, owner), isNull(templates.deleteTime))).for("update");
      const seen = new Set<string>();
      for (const item of remote) {
        const row = local.find((r) => r.metaTemplateId === item.id) ?? local.find((r) => r.name === item.name && sameLanguage(r.language, item.language));
        if (!row) {
          await insertRemote(tx, this.#options.newId(), account, owner, item, now);
          counts.created += 1;
          continue;
        }
        seen.add(row.id);
        // Changed here after the list was taken (a webhook, an edit): the list is older than what we know.
        if (row.updateTime > now) {
          counts.unchanged += 1;
          continue;
        }
        const outcome = await applyProviderChange(tx, {
          tenantId,
          row,
          accountId: row.accountId,
          wabaId: account.wabaId,
          view: {
            status: item.status,
            category: item.category,
            rejectedReason: item.rejectedReason,
            qualityScore: item.qualityScore,
            content: { parameterFormat: item.content.parameterFormat, components: item.content.components, messageSendTtlSeconds: item.content.messageSendTtlSeconds },
            fromList: true,
          },
          providerEvent: "SYNC",
          metaTemplateId: item.id,
          now,
          newId: this.#options.newId,
        });
        if (outcome.event) events += 1;
        if (outcome.changed) counts.updated += 1;
        else counts.unchanged += 1;
      }
      for (const row of local) {
        if (seen.has(row.id)) continue;
        // Never submitted (a DRAFT): nothing at the provider to miss. Submitted after the list was taken: not in it yet.
        if (row.metaTemplateId === null || row.status === "DRAFT" || row.updateTime > now) {
          counts.unchanged += 1;
          continue;
        }
        await tx.update(templates).set({ deleteTime: now }).where(eq(templates.id, row.id));
        const outcome = await applyProviderChange(tx, {
          tenantId,
          row,
          accountId: row.accountId,
          wabaId: account.wabaId,
          view: { status: "DELETED" },
          providerEvent: "SYNC",
          now,
          newId: this.#options.newId,
        });
        if (outcome.event) events += 1;
        counts.deleted += 1;
      }
      return counts;
    });
    if (events > 0) this.#options.onEventsCommitted?.();
    return counts;
  }
}

async function insertRemote(tx: Database, id: string, account: TemplateAccount, owner: string, item: RemoteTemplate, now: Date): Promise<void> {
  const content: StoredContent = { parameterFormat: item.content.parameterFormat, ...item.content.components };
  const approved = item.status === "APPROVED";
  await tx.insert(templates).values({
    id,
    accountId: account.id,
    wabaId: owner,
    name: item.name,
    language: item.language,
    category: item.category,
    components: content,
    messageSendTtlSeconds: item.content.messageSendTtlSeconds || null,
    metaTemplateId: item.id,
    status: db(item.status),
    rejectedReason: item.rejectedReason || null,
    qualityScore: item.qualityScore || null,
    version: 1,
    approvedVersion: approved ? 1 : null,
    approvedComponents: approved ? { ...content, category: item.category } : null,
    createTime: now,
    updateTime: now,
    statusUpdateTime: now,
  });
  await tx.insert(templateVersions).values({ templateId: id, version: 1, category: item.category, components: content, status: item.status, rejectedReason: item.rejectedReason || null, createTime: now });
}

function liveByName(tx: Database, owner: string, name: string, language: string): Promise<TemplateRow[]> {
  return tx
    .select()
    .from(templates)
    .where(and(eq(templates.wabaId, owner), eq(templates.name, name), eq(templates.language, language), isNull(templates.deleteTime)))
    .limit(1);
}


function sameLanguage(a: string, b: string): boolean {
  return a.replace("-", "_").toLowerCase() === b.replace("-", "_").toLowerCase();
}


function ttl(content: TemplateContent): number | null {
  return content.messageSendTtlSeconds === 0 ? null : content.messageSendTtlSeconds;
}


/** A row of `forSend`'s raw select (times as epoch milliseconds) → the row drizzle would give. */
function templateRowFromReturned(row: Record<string, unknown>): TemplateRow {
  const get = <T>(name: string) => row[name] as T;
  const json = (value: unknown) => (typeof value === "string" ? (JSON.parse(value) as unknown) : value);
  const at = (value: unknown) => (value === null || value === undefined ? null : new Date(Number(value)));
  const count = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  return {
    id: get("id"),
    accountId: get("account_id"),
    wabaId: get("waba_id"),
    name: get("name"),
    language: get("language"),
    category: get("category"),
    components: json(get("components")),
    messageSendTtlSeconds: count(get("message_send_ttl_seconds")),
    metaTemplateId: get("meta_template_id"),
    status: get("status"),
    rejectedReason: get("rejected_reason"),
    qualityScore: get("quality_score"),
    version: Number(get("version")),
    approvedVersion: count(get("approved_version")),
    approvedComponents: json(get("approved_components")),
    createTime: at(get("create_ms"))!,
    updateTime: at(get("update_ms"))!,
    statusUpdateTime: at(get("status_update_ms")),
    // Only live templates are read.
    deleteTime: null,
  };
}


function encodeCursor(cursor: [string, string, string]): string {
  return Buffer.from(JSON.stringify(cursor), "utf8").toString("base64url");
}

function decodeCursor(token: string): [string, string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === "string") && UUID.test(value[2] as string)) {
      return value as [string, string, string];
    }
  } catch {
    // fall through
  }
  throw DomainError.invalid([{ field: "page_token", description: "is not a token from a previous page" }]);
}
