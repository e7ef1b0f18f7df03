import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "gen/", "clients/grpc-js/", "node_modules/", "data/", "third_party/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  {
    // The core stays free of adapters: domain imports only domain, app only
    // domain and ports (STYLE.md, dependencies point one way).
    files: ["src/domain/**/*.ts", "src/ports/**/*.ts", "src/app/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["**/adapters/**", "**/gen/**", "**/observability/**"], message: "the core must not import adapters or generated code" },
            { group: ["drizzle-orm*", "postgres", "@electric-sql/*", "@nats-io/*", "@connectrpc/*", "@bufbuild/*", "pino*"], message: "the core must not import infrastructure libraries" },
          ],
        },
      ],
    },
  },
  // ---- Adapter fences (issue 12): who may import what outside the core. ----
  // ESLint does not merge `no-restricted-imports` across blocks (the last
  // matching block wins), so each folder's block lists all of its fences.
  // src/adapters/rpc has its own block (kept separately).
  {
    // Storage implements ports; it never calls the use cases or the composition root.
    files: ["src/adapters/postgres/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["**/app", "**/app/**"], message: "adapters/postgres implements ports; it must not import app/ (the use cases call it, not the reverse)" },
            { group: ["**/context", "**/context.js"], message: "adapters must not import context.ts: take the ports you need as parameters" },
          ],
        },
      ],
    },
  },
  {
    // The HTTP edge writes through ports (ports/webhook-inbox.ts), not into the database.
    files: ["src/adapters/http/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["**/postgres", "**/postgres/**", "**/adapters/postgres/**"], message: "adapters/http must not import adapters/postgres: give it a port" },
            { group: ["**/context", "**/context.js"], message: "adapters must not import context.ts: take the ports you need as parameters" },
          ],
        },
      ],
    },
  },
  {
    // Providers and the event encoding know nothing of storage.
    files: ["src/adapters/providers/**/*.ts", "src/adapters/events/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["**/postgres", "**/postgres/**", "**/adapters/postgres/**"], message: "providers and events must not import adapters/postgres: give them a port" },
            { group: ["**/context", "**/context.js"], message: "adapters must not import context.ts: take the ports you need as parameters" },
          ],
        },
      ],
    },
  },
  {
    files: ["src/adapters/**/*.ts"],
    ignores: ["src/adapters/postgres/**", "src/adapters/http/**", "src/adapters/providers/**", "src/adapters/events/**", "src/adapters/rpc/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["**/context", "**/context.js"], message: "adapters must not import context.ts: take the ports you need as parameters" }] },
      ],
    },
  },
  {
    // Workers are driving adapters: built from ports and tuning by the composition root, never from AppContext.
    files: ["src/workers/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["**/context", "**/context.js"], message: "workers take explicit dependencies (ports, tuning from config.ts), not context.ts" },
            { group: ["**/adapters/postgres/**"], message: "workers run over ports; the composition root (start-workers.ts) hands them the PostgreSQL implementations" },
          ],
        },
      ],
    },
  },
  // ---- end of adapter fences ----
  // ---------------------------------------------------------------------------
  // Fence: the RPC adapter. Handlers are driving adapters: they reach the core
  // through use cases and the ports the composition root (context.ts) hands
  // them, so no file under src/adapters/rpc imports storage or the context.
  // It uses typescript-eslint's copy of no-restricted-imports (type imports
  // refused too) so it stays whole beside other fences on src/adapters/**:
  // flat config replaces, not merges, one rule's options for a file.
  // test/architecture/rpc-fences.test.ts shows it firing.
  {
    files: ["src/adapters/rpc/**/*.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/adapters/postgres", "**/adapters/postgres/**", "../postgres", "../postgres/**", "../../postgres", "../../postgres/**"],
              message: "rpc handlers do not import storage: take the port (src/ports) in the handler's deps; the composition root builds the store",
            },
            {
              group: ["**/context", "**/context.js", "**/context.ts"],
              message: "rpc handlers do not import the AppContext: declare the few ports they use as the handler's deps (see rpc/routes.ts RpcDeps)",
            },
          ],
        },
      ],
    },
  },
);
