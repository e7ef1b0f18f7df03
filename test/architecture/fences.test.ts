/**
 * The architecture's fences hold (docs/adr/0008-structure.md): lint refuses
 * an import that crosses one (each probe below is a deliberately bad file,
 * linted as if it sat at a forbidden place), and no module of src/ imports
 * itself back through others.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const eslint = new ESLint({ cwd: ROOT });

async function restrictedImports(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, filePath) });
  return result!.messages.filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);
}

describe("lint fences", () => {
  const bad: { where: string; file: string; code: string }[] = [
    { where: "adapters/postgres imports app/", file: "src/adapters/postgres/probe.ts", code: 'import { applyPendingStatuses } from "../../app/apply-message-status.js";\nexport const f = applyPendingStatuses;\n' },
    { where: "adapters/postgres imports context.ts", file: "src/adapters/postgres/stores/probe.ts", code: 'import type { AppContext } from "../../../context.js";\nexport type X = AppContext;\n' },
    { where: "adapters/nats imports context.ts", file: "src/adapters/nats/probe.ts", code: 'import type { AppContext } from "../../context.js";\nexport type X = AppContext;\n' },
    { where: "adapters/http imports context.ts", file: "src/adapters/http/probe.ts", code: 'import type { AppContext } from "../../context.js";\nexport type X = AppContext;\n' },
    { where: "adapters/http imports adapters/postgres", file: "src/adapters/http/probe.ts", code: 'import { InboxWriter } from "../postgres/inbox-writer.js";\nexport const w = InboxWriter;\n' },
    { where: "a provider imports adapters/postgres", file: "src/adapters/providers/sandbox/probe.ts", code: 'import type { Database } from "../../postgres/database.js";\nexport type X = Database;\n' },
    { where: "the event encoding imports adapters/postgres", file: "src/adapters/events/probe.ts", code: 'import { appendToOutbox } from "../postgres/outbox.js";\nexport const f = appendToOutbox;\n' },
    { where: "a worker imports context.ts", file: "src/workers/probe.ts", code: 'import type { AppContext } from "../context.js";\nexport type X = AppContext;\n' },
    { where: "a worker imports adapters/postgres", file: "src/workers/probe.ts", code: 'import { claimInboxRows } from "../adapters/postgres/inbox-queue.js";\nexport const f = claimInboxRows;\n' },
    { where: "the core imports an adapter", file: "src/app/messaging/probe.ts", code: 'import { PostgresSendQueue } from "../../adapters/postgres/send-queue.js";\nexport const q = PostgresSendQueue;\n' },
  ];
  for (const { where, file, code } of bad) {
    it(`when ${where}, then lint refuses the import`, async () => {
      expect(await restrictedImports(file, code)).not.toEqual([]);
    });
  }

  it("when adapters/postgres imports the core's domain and ports, then lint lets it", async () => {
    const code = 'import type { DomainEvent } from "../../domain/events.js";\nimport type { EventOutbox } from "../../ports/event-outbox.js";\nexport type X = DomainEvent | EventOutbox;\n';
    expect(await restrictedImports("src/adapters/postgres/probe.ts", code)).toEqual([]);
  });
});

describe("import graph", () => {
  it("when every module of src/ is followed through its imports, then none comes back to itself", () => {
    const graph = importGraph(path.join(ROOT, "src"));
    // The walk reads the imports (not an empty graph that trivially has no cycle).
    expect(graph.get(path.join(ROOT, "src/server.ts"))).toContain(path.join(ROOT, "src/start-workers.ts"));
    const cycles = stronglyConnected(graph).filter((c) => c.length > 1 || graph.get(c[0]!)!.includes(c[0]!));
    expect(cycles.map((c) => c.map((f) => path.relative(ROOT, f)).sort())).toEqual([]);
  });
});

/** Relative imports and re-exports of every .ts file under `dir` (tests excluded), type-only ones included. */
function importGraph(dir: string): Map<string, string[]> {
  const files = readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
    .map((f) => path.join(dir, f));
  const known = new Set(files);
  const specifier = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*["'](\.{1,2}\/[^"']+)["']/g;
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets: string[] = [];
    for (const match of readFileSync(file, "utf8").matchAll(specifier)) {
      const resolved = path.resolve(path.dirname(file), match[1]!).replace(/\.js$/, ".ts");
      const target = known.has(resolved) ? resolved : path.join(resolved.replace(/\.ts$/, ""), "index.ts");
      if (known.has(target)) targets.push(target);
    }
    graph.set(file, targets);
  }
  return graph;
}

/** Tarjan's strongly connected components. */
function stronglyConnected(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      for (let w = stack.pop()!; ; w = stack.pop()!) {
        onStack.delete(w);
        component.push(w);
        if (w === v) break;
      }
      components.push(component);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return components;
}
