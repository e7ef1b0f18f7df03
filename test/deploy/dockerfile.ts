/**
 * Reads the repository's Dockerfile into what the deploy tests need: the
 * stages with their instructions, ARG defaults substituted. Just enough of
 * the format for our own file (line continuations, comments, exec-form
 * JSON arrays, `key=value` ENV); anything else it does not understand is an
 * error, so the tests cannot silently read the wrong thing.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

export interface Instruction {
  keyword: string;
  /** The text after the keyword, continuations joined, ARG values substituted. */
  args: string;
  line: number;
}

export interface Stage {
  /** The FROM image, ARGs substituted. */
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

export interface Dockerfile {
  stages: Stage[];
  /** The last stage: what the image runs. */
  runtime: Stage;
}

export const ROOT = path.resolve(import.meta.dirname, "../..");

export function readDockerfile(file = path.join(ROOT, "Dockerfile")): Dockerfile {
  return parseDockerfile(readFileSync(file, "utf8"));
}

export function parseDockerfile(text: string): Dockerfile {
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const startLine = i + 1;
    let current = lines[i]!.trim();
    if (current === "" || current.startsWith("#")) continue;
    while (current.endsWith("\\")) {
      current = current.slice(0, -1).trimEnd();
      i++;
      if (i >= lines.length) throw new Error(`Dockerfile:${startLine}: continuation at end of file`);
      const next = lines[i]!.trim();
      if (next.startsWith("#")) continue;
      current += " " + next;
    }
    const match = /^([A-Za-z]+)\s+(.*)$/.exec(current);
    if (!match) throw new Error(`Dockerfile:${startLine}: cannot read "${current}"`);
    const keyword = match[1]!.toUpperCase();
    const rest = match[2]!.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => args.get(name) ?? whole);
    if (keyword === "ARG") {
      const [name, value] = rest.split("=", 2);
      if (value !== undefined) args.set(name!.trim(), value.trim());
      if (stages.length === 0) continue;
    }
    if (keyword === "FROM") {
      const fromMatch = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!fromMatch) throw new Error(`Dockerfile:${startLine}: cannot read FROM "${rest}"`);
      stages.push({ from: fromMatch[1]!, name: fromMatch[2], instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile:${startLine}: ${keyword} before the first FROM`);
    stage.instructions.push({ keyword, args: rest, line: startLine });
  }
  const runtime = stages.at(-1);
  if (!runtime) throw new Error("Dockerfile: no FROM");
  return { stages, runtime };
}

export function instructions(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

/** The one instruction of that kind in the stage (CMD, USER, WORKDIR…); several or none is an error. */
export function single(stage: Stage, keyword: string): Instruction {
  const found = instructions(stage, keyword);
  if (found.length !== 1) throw new Error(`expected one ${keyword} in the stage FROM ${stage.from}, found ${found.length}`);
  return found[0]!;
}

/** An exec-form (JSON array) command; the shell form is refused: SIGTERM would go to a shell. */
export function execForm(text: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`not an exec-form (JSON array) command: ${text}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((p) => typeof p === "string")) {
    throw new Error(`not an exec-form (JSON array of strings) command: ${text}`);
  }
  return parsed as string[];
}

/** Every ENV of the stage, in order (later ones win), `key=value` form with optional double quotes. */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args, line } of instructions(stage, "ENV")) {
    const pairs = args.match(/[A-Za-z_][A-Za-z0-9_]*=(?:"[^"]*"|\S*)/g) ?? [];
    if (pairs.join(" ") !== args.trim().replace(/\s+/g, " ")) throw new Error(`Dockerfile:${line}: use ENV key=value pairs (got "${args}")`);
    for (const pair of pairs) {
      const eq = pair.indexOf("=");
      env[pair.slice(0, eq)] = pair.slice(eq + 1).replace(/^"(.*)"$/, "$1");
    }
  }
  return env;
}

export interface Copy {
  from: string | undefined;
  sources: string[];
  destination: string;
}

export function copiesOf(stage: Stage): Copy[] {
  return instructions(stage, "COPY").map(({ args }) => {
    const words = args.split(/\s+/);
    let from: string | undefined;
    while (words[0]?.startsWith("--")) {
      const flag = words.shift()!;
      if (flag.startsWith("--from=")) from = flag.slice("--from=".length);
    }
    if (words.length < 2) throw new Error(`COPY needs a source and a destination: ${args}`);
    const destination = words.pop()!;
    return { from, sources: words, destination };
  });
}

/** HEALTHCHECK's options and its exec-form command. */
export function healthcheckOf(stage: Stage): { options: Record<string, string>; command: string[] } {
  const { args } = single(stage, "HEALTHCHECK");
  const at = args.indexOf("CMD ");
  if (at < 0) throw new Error(`HEALTHCHECK without CMD: ${args}`);
  const options: Record<string, string> = {};
  for (const option of args.slice(0, at).trim().split(/\s+/).filter((o) => o !== "")) {
    const m = /^--([a-z-]+)=(.+)$/.exec(option);
    if (!m) throw new Error(`HEALTHCHECK option not understood: ${option}`);
    options[m[1]!] = m[2]!;
  }
  return { options, command: execForm(args.slice(at + 4).trim()) };
}
