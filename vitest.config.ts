import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration files each use their own tenant schemas and streams, so they
    // may run in parallel; keep it modest on a 2-core machine.
    maxWorkers: 2,
    // `npm test` runs both; `npm run test:unit` / `test:integration` one each.
    projects: [
      {
        extends: true,
        test: {
          // Beside the code, on in-memory fakes (test/kit/fakes) or none: no database, no network.
          name: "unit",
          include: ["src/**/*.test.ts", "test/architecture/**/*.test.ts"],
        },
      },
      {
        extends: true,
        test: {
          // The real service, PostgreSQL and NATS (see test/support).
          name: "integration",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, "test/architecture/**"],
        },
      },
    ],
  },
});
