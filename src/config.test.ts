import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

const KEY = Buffer.alloc(32, 7).toString("base64");
const SECRET = "a-shared-hs256-secret-of-32-bytes-or-more";
const PRODUCTION = { DATABASE_URL: "postgres://u@h/db", ENCRYPTION_KEY: KEY };

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

  it("when no HTTP limits are set, then the defaults bound headers, bodies and idle connections", () => {
    expect(loadConfig({}).http).toEqual({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 65_000,
      http2IdleTimeoutMs: 120_000,
      maxConnections: 10_000,
    });
  });

  it("when HTTP limits are out of range, then each one is named", () => {
    const problems = problemsOf({ HTTP_HEADERS_TIMEOUT_MS: "5", HTTP_MAX_CONNECTIONS: "0", HTTP_REQUEST_TIMEOUT_MS: "soon" });
    expect(problems.join("\n")).toMatch(/HTTP_HEADERS_TIMEOUT_MS: must be an integer from 100/);
    expect(problems.join("\n")).toMatch(/HTTP_MAX_CONNECTIONS: must be an integer from 1/);
    expect(problems.join("\n")).toMatch(/HTTP_REQUEST_TIMEOUT_MS: must be an integer/);
  });

  it("when DATABASE_URL is set with a valid key, then the key is decoded to 32 bytes", () => {
    const config = loadConfig({ DATABASE_URL: "postgres://u@h/db", ENCRYPTION_KEY: KEY, AUTH_JWT_SECRET: SECRET });
    expect(config.embedded).toBe(false);
    expect(config.encryptionKey?.length).toBe(32);
  });

  it("when several variables are wrong, then one error names every one of them", () => {
    const problems = problemsOf({ PORT: "80000", DATABASE_URL: "mysql://x", LOG_LEVEL: "loud", AUTH_JWT_SECRET: SECRET });
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

describe("authentication settings", () => {
  it("when a production database is configured without AUTH_MODE, then jwt is the mode and it needs a key source", () => {
    expect(problemsOf(PRODUCTION)).toEqual([expect.stringMatching(/^AUTH_MODE: jwt needs AUTH_JWT_SECRET .* or AUTH_JWKS_URL/)]);
  });

  it("when jwt has a secret or a JWKS URL, then it starts with the claim checks configured", () => {
    const config = loadConfig({
      ...PRODUCTION,
      AUTH_JWKS_URL: "https://iam.example/.well-known/jwks.json",
      AUTH_JWT_ISSUER: "https://iam.example",
      AUTH_JWT_AUDIENCE: "whatsapp-service, gateway",
    });
    expect(config).toMatchObject({
      authMode: "jwt",
      authJwksUrl: "https://iam.example/.well-known/jwks.json",
      authJwtIssuer: "https://iam.example",
      authJwtAudience: ["whatsapp-service", "gateway"],
      authJwksCacheSeconds: 600,
      authJwksCooldownSeconds: 30,
    });
    expect(loadConfig({ ...PRODUCTION, AUTH_JWT_SECRET: SECRET }).authJwtSecret).toBe(SECRET);
  });

  it("when the HS256 secret is shorter than 32 bytes, then it is refused without echoing it", () => {
    const problems = problemsOf({ ...PRODUCTION, AUTH_JWT_SECRET: "short-secret" });
    expect(problems).toEqual([expect.stringMatching(/^AUTH_JWT_SECRET: must be at least 32 bytes/)]);
    expect(problems.join("")).not.toContain("short-secret");
  });

  it("when AUTH_MODE=none is asked for with a production database, then it refuses to start without the override", () => {
    expect(problemsOf({ ...PRODUCTION, AUTH_MODE: "none" })).toEqual([expect.stringMatching(/^AUTH_MODE: none .* AUTH_ALLOW_NONE_WITH_DATABASE=true/)]);
    expect(loadConfig({ ...PRODUCTION, AUTH_MODE: "none", AUTH_ALLOW_NONE_WITH_DATABASE: "true" }).authMode).toBe("none");
  });

  it("when the override is not a boolean, then the problem names it", () => {
    expect(problemsOf({ ...PRODUCTION, AUTH_MODE: "none", AUTH_ALLOW_NONE_WITH_DATABASE: "yes please" })).toContainEqual(
      expect.stringMatching(/^AUTH_ALLOW_NONE_WITH_DATABASE: must be true or false/),
    );
  });

  it("when the embedded database is used, then AUTH_MODE=none needs no override", () => {
    expect(loadConfig({ AUTH_MODE: "none" }).authMode).toBe("none");
  });

  it("when IAM_URL is set, then it defaults to deny on failure with a short cache, and needs jwt", () => {
    const config = loadConfig({ ...PRODUCTION, AUTH_JWT_SECRET: SECRET, IAM_URL: "http://iam:8080/v1/check" });
    expect(config).toMatchObject({ iamUrl: "http://iam:8080/v1/check", iamFailureMode: "deny", iamCacheSeconds: 30, iamTimeoutMs: 2000 });
    expect(loadConfig({ ...PRODUCTION, AUTH_JWT_SECRET: SECRET, IAM_URL: "http://iam", IAM_FAILURE_MODE: "allow" }).iamFailureMode).toBe("allow");
    expect(problemsOf({ IAM_URL: "http://iam" })).toEqual([expect.stringMatching(/^IAM_URL: the IAM check needs AUTH_MODE=jwt/)]);
    expect(problemsOf({ ...PRODUCTION, AUTH_JWT_SECRET: SECRET, IAM_URL: "http://iam", IAM_FAILURE_MODE: "maybe" })).toEqual([
      expect.stringMatching(/^IAM_FAILURE_MODE: must be one of deny, allow/),
    ]);
  });

  it("when rate limits are not set, then 1000/s with a burst of twice that; a rate alone sets the burst to twice it; 0 turns it off", () => {
    expect(loadConfig({})).toMatchObject({ rateLimitPerSecond: 1000, rateLimitBurst: 2000 });
    expect(loadConfig({ RATE_LIMIT_PER_SECOND: "5" })).toMatchObject({ rateLimitPerSecond: 5, rateLimitBurst: 10 });
    expect(loadConfig({ RATE_LIMIT_PER_SECOND: "5", RATE_LIMIT_BURST: "7" })).toMatchObject({ rateLimitPerSecond: 5, rateLimitBurst: 7 });
    expect(loadConfig({ RATE_LIMIT_PER_SECOND: "0" }).rateLimitPerSecond).toBe(0);
  });
});
