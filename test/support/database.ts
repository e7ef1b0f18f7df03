/**
 * A fresh, uniquely named PostgreSQL database per test file, created through
 * the admin URL (TEST_DATABASE_ADMIN_URL, default the local trust-auth
 * server) and dropped afterwards.
 */
import { randomBytes } from "node:crypto";

import postgres from "postgres";

export const DEFAULT_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  /** URL of the new database (same server and credentials as the admin URL). */
  url: string;
  name: string;
  /** DROP DATABASE … WITH (FORCE); idempotent. */
  drop(): Promise<void>;
}

export function adminUrl(): string {
  return process.env.TEST_DATABASE_ADMIN_URL || DEFAULT_ADMIN_URL;
}

export async function createTestDatabase(prefix = "test"): Promise<TestDatabase> {
  const admin = adminUrl();
  const name = `${prefix.replace(/[^a-z0-9_]/g, "_")}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  const sql = postgres(admin, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await sql.unsafe(`create database "${name}"`);
  } finally {
    await sql.end({ timeout: 5 });
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return {
    url: url.toString(),
    name,
    drop: () =>
      (dropped ??= (async () => {
        const client = postgres(admin, { max: 1, onnotice: () => {}, connect_timeout: 10 });
        try {
          await client.unsafe(`drop database if exists "${name}" with (force)`);
        } finally {
          await client.end({ timeout: 5 });
        }
      })()),
  };
}
