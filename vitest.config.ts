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
          include: ["src/**/*.test.ts", "clients/**/*.test.ts", "test/architecture/**/*.test.ts"],
        },
      },
      {
        extends: true,
        test: {
          // The real service, PostgreSQL and NATS (see test/support).
          name: "integration",
          include: ["test/**/*.test.ts"],
          // Deadlines, not assertions: these tests run the real service, PostgreSQL, NATS and
          // simulators on 2 cores, two files at a time (fault and deploy files spawn processes and
          // clusters); a loaded machine makes them slow, and a slow run must not read as a failure.
          testTimeout: 90_000,
          exclude: [...configDefaults.exclude, "test/architecture/**"],
        },
      },
    ],
  },
});
