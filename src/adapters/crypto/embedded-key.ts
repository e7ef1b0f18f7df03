import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * Embedded (laptop) mode has no ENCRYPTION_KEY: one is generated on first
 * start and kept beside the embedded database, so secrets stored in one run
 * can be read in the next. Production sets ENCRYPTION_KEY instead.
 */
export async function loadOrCreateEmbeddedKey(dataDir: string): Promise<{ key: Buffer; created: boolean; file: string }> {
  const file = path.join(dataDir, "encryption.key");
  const existing = await readKey(file);
  if (existing) return { key: existing, created: false, file };
  await mkdir(dataDir, { recursive: true });
  const key = randomBytes(32);
  // Written whole under a temporary name, then linked into place: a crash
  // mid-write never leaves a truncated key behind, and link() refuses to
  // replace a key another process put there first (we then use theirs).
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temporary, `${key.toString("base64")}\n`, { mode: 0o600, flush: true });
  try {
    await link(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const winner = await readKey(file);
    if (!winner) throw error;
    return { key: winner, created: false, file };
  } finally {
    await unlink(temporary).catch(() => {});
  }
  return { key, created: true, file };
}

async function readKey(file: string): Promise<Buffer | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const key = Buffer.from(text.trim(), "base64");
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
  return key;
}
