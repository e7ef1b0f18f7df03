import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

const KEY = Buffer.alloc(32, 7).toString("base64");

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  return [];
}

describe("loadConfig", () => {
  it("when the environment is empty, then it runs embedded on :8000 with no auth", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 8000, embedded: true, authMode: "none", dataDir: "./data", natsStream: "WHATSAPP" });
    expect(config.encryptionKey).toBeUndefined();
  });

  it("when DATABASE_URL is set with a valid key, then the key is decoded to 32 bytes", () => {
    const config = loadConfig({ DATABASE_URL: "postgres://u@h/db", ENCRYPTION_KEY: KEY, AUTH_MODE: "none" });
    expect(config.embedded).toBe(false);
    expect(config.encryptionKey?.length).toBe(32);
  });

  it("when several variables are wrong, then one error names every one of them", () => {
    const problems = problemsOf({ PORT: "80000", DATABASE_URL: "mysql://x", LOG_LEVEL: "loud", AUTH_MODE: "none" });
    expect(problems.map((p) => p.split(":")[0]).sort()).toEqual(["DATABASE_URL", "ENCRYPTION_KEY", "LOG_LEVEL", "PORT"]);
  });

  it("when PORT is not a number, then the problem names PORT", () => {
    expect(problemsOf({ PORT: "http" })).toEqual([expect.stringMatching(/^PORT: must be an integer/)]);
  });

  it("when ENCRYPTION_KEY is too short, then the problem names it without echoing the value", () => {
    const shortKey = Buffer.alloc(16, 1).toString("base64");
    const problems = problemsOf({ ENCRYPTION_KEY: shortKey });
    expect(problems).toEqual([expect.stringMatching(/^ENCRYPTION_KEY: must decode to 32 bytes, got 16/)]);
    expect(problems.join("")).not.toContain(shortKey);
  });

  it("when ENCRYPTION_KEY is not base64, then the problem names it without echoing the value", () => {
    const problems = problemsOf({ ENCRYPTION_KEY: "not base64 at all!" });
    expect(problems).toEqual([expect.stringMatching(/^ENCRYPTION_KEY: must be base64/)]);
    expect(problems.join("")).not.toContain("not base64 at all!");
  });

  it("when a production database is configured without AUTH_MODE, then jwt is refused until it is available", () => {
    expect(problemsOf({ DATABASE_URL: "postgres://u@h/db", ENCRYPTION_KEY: KEY })).toEqual([
      expect.stringMatching(/^AUTH_MODE: jwt is not available/),
    ]);
  });

  it("when ConfigError is printed, then it lists one problem per line", () => {
    const error = new ConfigError(["A: bad", "B: worse"]);
    expect(error.message).toBe("invalid configuration:\n  - A: bad\n  - B: worse");
  });
});

describe("WORKERS", () => {
  it("when unset, then every worker runs", () => {
    expect([...loadConfig({}).workers].sort()).toEqual(["inbox", "relay", "scheduler", "sender"]);
  });
  it("when a list is given, then only those run; none runs none", () => {
    expect([...loadConfig({ WORKERS: "inbox, relay" }).workers]).toEqual(["inbox", "relay"]);
    expect(loadConfig({ WORKERS: "none" }).workers.size).toBe(0);
  });
  it("when a worker name is unknown, then the problem names WORKERS", () => {
    expect(problemsOf({ WORKERS: "inbox,mailer" })).toEqual([expect.stringMatching(/^WORKERS: unknown mailer/)]);
  });
});
