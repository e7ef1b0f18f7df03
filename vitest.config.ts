import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "clients/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration files each use their own tenant schemas and streams, so they
    // may run in parallel; keep it modest on a 2-core machine.
    maxWorkers: 2,
  },
});
