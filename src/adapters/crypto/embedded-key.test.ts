import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadOrCreateEmbeddedKey } from "./embedded-key.js";

describe("loadOrCreateEmbeddedKey", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("when no key exists, then one is created and the next start reads the same key", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "wa-key-"));
    const first = await loadOrCreateEmbeddedKey(dir);
    const second = await loadOrCreateEmbeddedKey(dir);
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.key.equals(first.key)).toBe(true);
    expect(await readdir(dir)).toEqual(["encryption.key"]);
  });

  it("when several processes start at once, then they all end with the one key that was written", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "wa-key-"));
    const results = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateEmbeddedKey(dir!)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    for (const r of results) expect(r.key.equals(results[0]!.key)).toBe(true);
    expect(await readdir(dir)).toEqual(["encryption.key"]);
  });
});
