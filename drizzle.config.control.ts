/**
 * drizzle-kit config for the shared control schema.
 * Regenerate: npx drizzle-kit generate --config drizzle.config.control.ts
 */
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./src/adapters/postgres/schema/control.ts",
  out: "./migrations/control",
  schemaFilter: ["control"],
  strict: true,
  verbose: true,
});
