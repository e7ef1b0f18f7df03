/**
 * The lint fence around src/adapters/rpc (eslint.config.js) fires: a handler
 * that imports a Postgres store or the AppContext fails lint, with the fence's
 * message, while the imports handlers are meant to use pass. Linted through
 * ESLint's Node API with the repository's own configuration, on snippets
 * placed (virtually) under src/adapters/rpc.
 */
import { fileURLToPath } from "node:url";

import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const eslint = new ESLint({ cwd: root });

async function restrictedImports(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  expect(result!.messages.filter((m) => m.fatal)).toEqual([]);
  return result!.messages.filter((m) => m.ruleId === "@typescript-eslint/no-restricted-imports").map((m) => m.message);
}

describe("the rpc fence", () => {
  it("when a handler imports a Postgres store, then lint fails with the fence's message", async () => {
    const code = `import { PostgresOutboundStore } from "../../postgres/outbound-store.js";\nexport const store = PostgresOutboundStore;\n`;
    const messages = await restrictedImports(code, "src/adapters/rpc/messaging/x.ts");
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain("rpc handlers do not import storage");
  });

  it("when a file at the top of rpc/ imports the Postgres index or only a type from it, then lint fails too", async () => {
    expect(await restrictedImports(`import { migrate } from "../postgres/index.js";\nexport const m = migrate;\n`, "src/adapters/rpc/x.ts")).toHaveLength(1);
    expect(await restrictedImports(`import type { EventFeed } from "../../postgres/event-feed.js";\nexport type F = EventFeed<never>;\n`, "src/adapters/rpc/conversations/x.ts")).toHaveLength(1);
  });

  it("when a handler imports the AppContext, then lint fails with the fence's message", async () => {
    const code = `import type { AppContext } from "../../../context.js";\nexport type C = AppContext;\n`;
    const messages = await restrictedImports(code, "src/adapters/rpc/accounts/x.ts");
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain("rpc handlers do not import the AppContext");
    expect(await restrictedImports(`import type { AppContext } from "../../context.js";\nexport type C = AppContext;\n`, "src/adapters/rpc/x.ts")).toHaveLength(1);
  });

  it("when a handler imports a use case, a port, its service's helpers and the tenant context, then the fence says nothing", async () => {
    const code = [
      `import { getMessage } from "../../../app/messaging/get-message.js";`,
      `import type { OutboundStore } from "../../../ports/outbound-store.js";`,
      `import { tenantOf } from "../tenant-context.js";`,
      `import { messageToPb } from "./message-to-pb.js";`,
      `export const parts: unknown[] = [getMessage, tenantOf, messageToPb];`,
      `export type S = OutboundStore;`,
      "",
    ].join("\n");
    expect(await restrictedImports(code, "src/adapters/rpc/messaging/x.ts")).toEqual([]);
  });

  it("when the same Postgres import sits outside src/adapters/rpc, then this fence does not apply", async () => {
    const code = `import type { AppContext } from "./context.js";\nexport type C = AppContext;\n`;
    expect(await restrictedImports(code, "src/server-x.ts")).toEqual([]);
  });
});
