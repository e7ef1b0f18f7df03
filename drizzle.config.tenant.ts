/**
 * drizzle-kit config for the per-tenant tables. drizzle-kit sees them in
 * "public"; the migrator applies each migration inside every tenant schema
 * (search_path set, "public". qualifiers stripped).
 * Regenerate: npx drizzle-kit generate --config drizzle.config.tenant.ts
 */
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./src/adapters/postgres/schema/tenant.ts",
  out: "./migrations/tenant",
  schemaFilter: ["public"],
  strict: true,
  verbose: true,
});
