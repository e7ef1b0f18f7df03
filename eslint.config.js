import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "gen/", "node_modules/", "data/", "third_party/"] },
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
