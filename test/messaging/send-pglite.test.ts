/**
 * SendMessage's statements are hot prepared statements on postgres.js; on
 * embedded PGlite the same text runs through drizzle (prepared-query.ts).
 * This walks the send path on both drivers: the rows, the events, and the
 * stored message the INSERT returns against a fresh read of it.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { sql } from "drizzle-orm";
import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { SecretBox } from "../../src/adapters/crypto/secret-box.js";
import { ensureTenant, migrate, openDatabase, PostgresAccountRepository, queryRows, withTenant, type DatabaseHandle } from "../../src/adapters/postgres/index.js";
import { PostgresOutboundStore } from "../../src/adapters/postgres/stores/outbound-store.js";
import { PostgresTemplateStore } from "../../src/adapters/postgres/stores/template-store.js";
import { sendMessage } from "../../src/app/messaging/send-message.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

let dataDir: string;
let database: TestDatabase;
const handles: Record<"pglite" | "postgres", DatabaseHandle | undefined> = { pglite: undefined, postgres: undefined };

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "pglite-send-"));
  handles.pglite = await openDatabase({ dataDir });
  database = await createTestDatabase("send_drivers");
  handles.postgres = await openDatabase({ databaseUrl: database.url, dataDir });
  for (const handle of Object.values(handles)) await migrate(handle!.db);
});

afterAll(async () => {
  for (const handle of Object.values(handles)) await handle?.close();
  await database?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe.each(["pglite", "postgres"] as const)("SendMessage on %s", (kind) => {
  it("when two template messages are sent to a new contact, then it is created, one conversation counts both, both jobs are queued and the stored message reads back the same", async () => {
    const handle = handles[kind]!;
    expect(handle.kind).toBe(kind);
    await ensureTenant(handle.db, "laptop");
    const account = await new PostgresAccountRepository(handle.db, new SecretBox(randomBytes(32))).create({
      id: uuidv7(),
      tenantId: "laptop",
      provider: "sandbox",
      displayName: "Sandbox",
      phoneNumberId: "sandbox-send-1",
      wabaId: "waba-1",
      displayPhoneNumber: "+15550100",
      businessId: "",
      rateLimitPerSecond: 80,
      status: "active",
      credentials: {},
      metadata: {},
    });
    const outbound = new PostgresOutboundStore(handle.db, { newId: () => uuidv7() });
    const deps = { outbound, newId: () => uuidv7(), now: () => new Date("2026-01-02T03:04:05.678Z") };
    const request = {
      accountId: account.id,
      to: "+593987654321",
      content: { kind: "template" as const, name: "hello_world", language: "en_US", components: [] },
      replyTo: "",
      idempotencyKey: "",
      priority: "transactional" as const,
      metadata: { order: "42" },
    };

    const first = await sendMessage(deps, "laptop", request);
    const second = await sendMessage(deps, "laptop", { ...request, idempotencyKey: "key-1" });
    const repeated = await sendMessage(deps, "laptop", { ...request, idempotencyKey: "key-1" });

    expect(first.duplicate).toBe(false);
    expect(first.message).toMatchObject({
      accountId: account.id,
      accountPhone: "+15550100",
      direction: "outbound",
      type: "template",
      status: "queued",
      priority: "transactional",
      metadata: { order: "42" },
      attemptCount: 0,
      contact: { waId: "593987654321", phone: "+593987654321", firstSeenTime: new Date("2026-01-02T03:04:05.678Z") },
    });
    expect(first.message.content).toMatchObject({ type: "template", template: { name: "hello_world" } });
    expect(await outbound.getMessage("laptop", first.message.id)).toEqual(first.message);
    expect(await outbound.getMessage("laptop", second.message.id)).toEqual(second.message);
    expect(second.message.conversationId).toBe(first.message.conversationId);
    expect(second.message.idempotencyKey).toBe("key-1");
    expect(repeated).toEqual({ message: second.message, duplicate: true });

    const [conversation] = await withTenant(handle.db, "laptop", (tx) =>
      queryRows<{ message_count: number; outbound_message_count: number; source: string; last_outbound_time: unknown }>(
        tx,
        sql`select message_count, outbound_message_count, source, last_outbound_time from conversations where id = ${first.message.conversationId}::uuid`,
      ),
    );
    expect(conversation).toMatchObject({ message_count: 2, outbound_message_count: 2, source: "manual" });
    expect(new Date(conversation!.last_outbound_time as string).toISOString()).toBe("2026-01-02T03:04:05.678Z");
    const jobs = await queryRows<{ tenant_id: string; kind: string; payload: unknown; priority: number }>(
      handle.db,
      sql`select tenant_id, kind, payload, priority from control.jobs where kind = 'send_message' order by created_at, id`,
    );
    expect(jobs.map((j) => ({ ...j, payload: typeof j.payload === "string" ? (JSON.parse(j.payload) as unknown) : j.payload }))).toEqual([
      { tenant_id: "laptop", kind: "send_message", payload: { messageId: first.message.id, accountId: account.id }, priority: expect.any(Number) },
      { tenant_id: "laptop", kind: "send_message", payload: { messageId: second.message.id, accountId: account.id }, priority: expect.any(Number) },
    ]);
    const events = await queryRows<{ event_type: string }>(handle.db, sql`select event_type from control.outbox where tenant_id = 'laptop' order by seq`);
    expect(events.map((e) => e.event_type)).toEqual(["contact.created", "conversation.opened"]);

    // The template check's read (account, then the template in the tenant schema).
    const templates = new PostgresTemplateStore(handle.db, { newId: () => uuidv7() } as never);
    expect(await templates.forSend("laptop", account.id, "hello_world", "en_US")).toEqual({
      account: { id: account.id, tenantId: "laptop", provider: "sandbox", wabaId: "waba-1" },
    });
    expect(await templates.forSend("someone-else", account.id, "hello_world", "en_US")).toEqual({});
  });
});
