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
);
