/**
 * Environment → typed, validated configuration. Imports nothing internal so it
 * can be loaded (and fail) before anything else starts.
 *
 * Every variable is checked and every problem is reported at once: an operator
 * fixing a deployment should not have to restart the process once per typo.
 */

export type AuthMode = "jwt" | "none";
/** Background workers a replica runs; `WORKERS=none` makes a pure API replica. */
export type Worker = "inbox" | "relay" | "sender" | "scheduler";
export const ALL_WORKERS: readonly Worker[] = ["inbox", "relay", "sender", "scheduler"];
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
/** What to do when the IAM service cannot answer: refuse the call, or trust the verified token alone. */
export type IamFailureMode = "deny" | "allow";

export interface Config {
  port: number;
  host: string;
  /** METRICS_ADDRESS: `/metrics` also on its own listener (host:port); undefined → only on the service port. */
  metricsAddress: ListenAddress | undefined;
  /** Unset → embedded PGlite under `dataDir` (local trial mode). */
  databaseUrl: string | undefined;
  dataDir: string;
  /** True when running on the embedded database: trial mode, loud warnings. */
  embedded: boolean;
  natsUrl: string | undefined;
  natsStream: string;
  /** Events older than this are dropped by the stream (JetStream max_age). */
  natsStreamMaxAgeSeconds: number;
  natsStreamReplicas: number;
  /** JetStream duplicate window: a re-published event id within it is dropped. */
  natsDuplicateWindowSeconds: number;
  /** Published events stay in the outbox this long: how far back WatchEvents can resume. */
  outboxRetentionSeconds: number;
  whatsappGraphUrl: string;
  whatsappApiVersion: string;
  metaAppSecret: string | undefined;
  metaVerifyToken: string | undefined;
  twilioBaseUrl: string;
  /** The service's public base URL: Twilio's status callbacks are built on it and its signatures checked against it. */
  publicUrl: string | undefined;
  /** Without PUBLIC_URL: rebuild the public URL from X-Forwarded-Proto/Host (only behind a proxy that sets them). */
  trustProxyHeaders: boolean;
  /** HS256 shared secret (at least 32 bytes). Tokens signed with it may only use HS256. */
  authJwtSecret: string | undefined;
  /** JWKS document URL. Keys from it may only verify RS256/ES256 tokens. */
  authJwksUrl: string | undefined;
  /** Required `iss`; unset → not checked. */
  authJwtIssuer: string | undefined;
  /** Accepted `aud` values (any one must match); empty → not checked. */
  authJwtAudience: readonly string[];
  /** Allowed clock skew for `exp`/`nbf`. */
  authClockToleranceSeconds: number;
  /** JWKS refetched at the latest this long after the last fetch (drops removed keys). */
  authJwksCacheSeconds: number;
  /** A token with an unknown `kid` refetches the JWKS at most this often (bounds refetch storms). */
  authJwksCooldownSeconds: number;
  authMode: AuthMode;
  /** The explicit override that lets `AUTH_MODE=none` run against a real PostgreSQL. */
  authAllowNoneWithDatabase: boolean;
  /** IAM permission check (seed 000 §4.2); unset → the token's own `permissions` claim decides. */
  iamUrl: string | undefined;
  iamFailureMode: IamFailureMode;
  iamCacheSeconds: number;
  iamTimeoutMs: number;
  /** Requests per second per tenant, per replica; 0 turns the limit off. */
  rateLimitPerSecond: number;
  /** Requests a tenant may make at once above the steady rate. */
  rateLimitBurst: number;
  /** 32-byte key; undefined only in embedded mode, where one is generated and kept in `dataDir`. */
  encryptionKey: Buffer | undefined;
  logLevel: LogLevel;
  /** How long SIGTERM waits for in-flight requests before closing connections. */
  shutdownGraceMs: number;
  /** Time and count limits on the one port (see adapters/http/connection-limits.ts). */
  http: HttpLimitsConfig;
  /** How often the database's reachability is probed for gRPC health (ms). */
  healthProbeIntervalMs: number;
  workers: ReadonlySet<Worker>;
  /** Idle time before an open conversation is closed, for tenants that set none. */
  conversationInactivityTimeoutSeconds: number;
  /** Pause between two inactivity sweeps (the `scheduler` worker). */
  inactivitySweepIntervalMs: number;
  /** Seconds between periodic template syncs (scheduler worker); 0 = off. */
  templateSyncIntervalSeconds: number;
  /** One-time codes (OtpService): attempt limit, resend cooldown, send limits, default template. */
  otp: OtpConfig;
}

export interface HttpLimitsConfig {
  /** A new connection (or a keep-alive one that went idle) must deliver a complete request head within this. */
  headersTimeoutMs: number;
  /** A request's body must have arrived this long after its head; 0 = no limit. Never cuts a response stream. */
  requestTimeoutMs: number;
  /** An HTTP/1.1 connection with no request in flight is closed after this. */
  keepAliveTimeoutMs: number;
  /** An HTTP/2 session with no open stream is closed after this. */
  http2IdleTimeoutMs: number;
  /** Connections held at once; more are closed on accept. */
  maxConnections: number;
}

export interface OtpConfig {
  /** Verification attempts per code. */
  maxAttempts: number;
  /** Minimum time between two codes to one phone. */
  resendCooldownSeconds: number;
  /** Codes per phone in any sliding hour; 0 = no limit. */
  maxPerPhonePerHour: number;
  /** Codes per tenant in any sliding minute; 0 = no limit. */
  maxPerTenantPerMinute: number;
  /** AUTHENTICATION template used when neither the request nor the tenant's settings name one. */
  templateName: string | undefined;
  /** Its language when nothing else says which. */
  templateLanguage: string;
}

export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

type Env = Readonly<Record<string, string | undefined>>;

/** Reads one variable each, collecting problems instead of throwing at the first. */
class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: Env) {}

  /** A set, non-blank value, trimmed; blank counts as unset (a common deployment slip). */
  optional(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  }

  string(name: string, fallback: string): string {
    return this.optional(name) ?? fallback;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      this.problems.push(`${name}: must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return Number(raw);
  }

  url(name: string, protocols: readonly string[]): string | undefined {
    const raw = this.optional(name);
    if (raw === undefined) return undefined;
    // NATS_URL may list several servers separated by commas.
    for (const part of raw.split(",")) {
      let parsed: URL;
      try {
        parsed = new URL(part.trim());
      } catch {
        this.problems.push(`${name}: not a valid URL`);
        return undefined;
      }
      if (!protocols.includes(parsed.protocol)) {
        this.problems.push(`${name}: scheme must be one of ${protocols.join(", ")} (got "${parsed.protocol}")`);
        return undefined;
      }
    }
    return raw.replace(/\/+$/, "");
  }

  /** A comma-separated subset of `allowed`, or `all` / `none`. */
  subset<T extends string>(name: string, allowed: readonly T[], fallback: readonly T[]): Set<T> {
    const raw = this.optional(name);
    if (raw === undefined || raw === "all") return new Set(raw === "all" ? allowed : fallback);
    if (raw === "none") return new Set();
    const parts = raw.split(",").map((p) => p.trim()).filter((p) => p !== "");
    const unknown = parts.filter((p) => !(allowed as readonly string[]).includes(p));
    if (unknown.length > 0) {
      this.problems.push(`${name}: unknown ${unknown.join(", ")}; use all, none, or a comma list of ${allowed.join(", ")}`);
      return new Set(fallback);
    }
    return new Set(parts as T[]);
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.optional(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (raw === "true" || raw === "1") return true;
    if (raw === "false" || raw === "0") return false;
    this.problems.push(`${name}: must be true or false (got "${raw}")`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problems.push(`${name}: must be one of ${allowed.join(", ")} (got "${raw}")`);
      return fallback;
    }
    return raw as T;
  }
}

/** Never echo the value: it is a secret, and a near-miss would leak most of it. */
export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * METRICS_ADDRESS as `host:port`, `[ipv6]:port` or `:port` (all interfaces).
 * Port 0 picks a free one (tests).
 */
export function parseListenAddress(raw: string): ListenAddress | string {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/.exec(raw.trim());
  if (!match) return "must be host:port, [ipv6]:port or :port";
  const port = Number(match[3]);
  if (port > 65535) return `port must be 0-65535 (got ${port})`;
  const host = match[1] ?? (match[2] || "0.0.0.0");
  return { host, port };
}

function parseMetricsAddress(reader: EnvReader): ListenAddress | undefined {
  const raw = reader.optional("METRICS_ADDRESS");
  if (raw === undefined) return undefined;
  const parsed = parseListenAddress(raw);
  if (typeof parsed === "string") {
    reader.problems.push(`METRICS_ADDRESS: ${parsed} (got "${raw}")`);
    return undefined;
  }
  return parsed;
}

function parseEncryptionKey(reader: EnvReader, embedded: boolean): Buffer | undefined {
  const raw = reader.optional("ENCRYPTION_KEY");
  if (raw === undefined) {
    if (!embedded) reader.problems.push("ENCRYPTION_KEY: required with DATABASE_URL (32 random bytes, base64; e.g. `openssl rand -base64 32`)");
    return undefined;
  }
  const normalised = raw.replace(/-/g, "+").replace(/_/g, "/");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(normalised)) {
    reader.problems.push("ENCRYPTION_KEY: must be base64 (value not shown)");
    return undefined;
  }
  const key = Buffer.from(normalised, "base64");
  if (key.length !== 32) {
    reader.problems.push(`ENCRYPTION_KEY: must decode to 32 bytes, got ${key.length} (value not shown)`);
    return undefined;
  }
  return key;
}

/**
 * Bearer-token and tenant-trust rules (SPEC §9): jwt needs a key source;
 * `none` trusts a header for the tenant, so on a real database it takes an
 * explicit override; the IAM check needs a verified user to ask about.
 */
function checkAuth(reader: EnvReader, config: Config): void {
  if (config.authMode === "jwt") {
    if (config.authJwtSecret === undefined && config.authJwksUrl === undefined) {
      reader.problems.push("AUTH_MODE: jwt needs AUTH_JWT_SECRET (HS256) or AUTH_JWKS_URL (RS256/ES256), or both");
    }
  } else if (!config.embedded && !config.authAllowNoneWithDatabase) {
    reader.problems.push(
      "AUTH_MODE: none trusts the x-tenant-id header and checks no token; with DATABASE_URL it needs AUTH_ALLOW_NONE_WITH_DATABASE=true (trusted networks only)",
    );
  }
  // HS256 keys shorter than the hash output are weak (RFC 7518 §3.2). Never echo the value.
  if (config.authJwtSecret !== undefined && Buffer.byteLength(config.authJwtSecret, "utf8") < 32) {
    reader.problems.push("AUTH_JWT_SECRET: must be at least 32 bytes (value not shown)");
  }
  if (config.iamUrl !== undefined && config.authMode !== "jwt") {
    reader.problems.push("IAM_URL: the IAM check needs AUTH_MODE=jwt (it asks about the token's user and tenant)");
  }
}

export function loadConfig(env: Env = process.env): Config {
  const reader = new EnvReader(env);
  const databaseUrl = reader.url("DATABASE_URL", ["postgres:", "postgresql:"]);
  const embedded = reader.optional("DATABASE_URL") === undefined;
  const authMode = reader.oneOf<AuthMode>("AUTH_MODE", ["jwt", "none"], embedded ? "none" : "jwt");
  const rateLimitPerSecond = reader.integer("RATE_LIMIT_PER_SECOND", 1000, 0, 1_000_000);

  const config: Config = {
    port: reader.integer("PORT", 8000, 0, 65535),
    host: reader.string("HOST", "0.0.0.0"),
    metricsAddress: parseMetricsAddress(reader),
    databaseUrl,
    dataDir: reader.string("DATA_DIR", "./data"),
    embedded,
    natsUrl: reader.url("NATS_URL", ["nats:", "tls:", "ws:", "wss:"]),
    natsStream: reader.string("NATS_STREAM", "WHATSAPP"),
    natsStreamMaxAgeSeconds: reader.integer("NATS_STREAM_MAX_AGE_SECONDS", 7 * 24 * 3600, 0, 10 * 365 * 24 * 3600),
    natsStreamReplicas: reader.integer("NATS_STREAM_REPLICAS", 1, 1, 5),
    natsDuplicateWindowSeconds: reader.integer("NATS_DUPLICATE_WINDOW_SECONDS", 120, 1, 7 * 24 * 3600),
    outboxRetentionSeconds: reader.integer("OUTBOX_RETENTION_SECONDS", 24 * 3600, 60, 365 * 24 * 3600),
    whatsappGraphUrl: reader.url("WHATSAPP_GRAPH_URL", ["http:", "https:"]) ?? "https://graph.facebook.com",
    whatsappApiVersion: reader.string("WHATSAPP_API_VERSION", "v23.0"),
    metaAppSecret: reader.optional("META_APP_SECRET"),
    metaVerifyToken: reader.optional("META_VERIFY_TOKEN"),
    twilioBaseUrl: reader.url("TWILIO_BASE_URL", ["http:", "https:"]) ?? "https://api.twilio.com",
    publicUrl: reader.url("PUBLIC_URL", ["http:", "https:"]),
    trustProxyHeaders: reader.boolean("TRUST_PROXY_HEADERS", false),
    authJwtSecret: reader.optional("AUTH_JWT_SECRET"),
    authJwksUrl: reader.url("AUTH_JWKS_URL", ["http:", "https:"]),
    authJwtIssuer: reader.optional("AUTH_JWT_ISSUER"),
    authJwtAudience: (reader.optional("AUTH_JWT_AUDIENCE") ?? "").split(",").map((a) => a.trim()).filter((a) => a !== ""),
    authClockToleranceSeconds: reader.integer("AUTH_CLOCK_TOLERANCE_SECONDS", 30, 0, 300),
    authJwksCacheSeconds: reader.integer("AUTH_JWKS_CACHE_SECONDS", 600, 1, 86_400),
    authJwksCooldownSeconds: reader.integer("AUTH_JWKS_COOLDOWN_SECONDS", 30, 0, 3_600),
    authMode,
    authAllowNoneWithDatabase: reader.boolean("AUTH_ALLOW_NONE_WITH_DATABASE", false),
    iamUrl: reader.url("IAM_URL", ["http:", "https:"]),
    iamFailureMode: reader.oneOf<IamFailureMode>("IAM_FAILURE_MODE", ["deny", "allow"], "deny"),
    iamCacheSeconds: reader.integer("IAM_CACHE_SECONDS", 30, 0, 3_600),
    iamTimeoutMs: reader.integer("IAM_TIMEOUT_MS", 2_000, 50, 60_000),
    rateLimitPerSecond,
    rateLimitBurst: reader.integer("RATE_LIMIT_BURST", Math.max(1, rateLimitPerSecond * 2), 1, 10_000_000),
    encryptionKey: parseEncryptionKey(reader, embedded),
    logLevel: reader.oneOf<LogLevel>("LOG_LEVEL", LOG_LEVELS, "info"),
    shutdownGraceMs: reader.integer("SHUTDOWN_GRACE_MS", 10_000, 0, 600_000),
    http: {
      headersTimeoutMs: reader.integer("HTTP_HEADERS_TIMEOUT_MS", 10_000, 100, 600_000),
      requestTimeoutMs: reader.integer("HTTP_REQUEST_TIMEOUT_MS", 30_000, 0, 3_600_000),
      keepAliveTimeoutMs: reader.integer("HTTP_KEEPALIVE_TIMEOUT_MS", 65_000, 100, 3_600_000),
      http2IdleTimeoutMs: reader.integer("HTTP2_IDLE_TIMEOUT_MS", 120_000, 100, 24 * 3_600_000),
      maxConnections: reader.integer("HTTP_MAX_CONNECTIONS", 10_000, 1, 1_000_000),
    },
    healthProbeIntervalMs: reader.integer("HEALTH_PROBE_INTERVAL_MS", 500, 50, 60_000),
    workers: reader.subset<Worker>("WORKERS", ALL_WORKERS, ALL_WORKERS),
    conversationInactivityTimeoutSeconds: reader.integer("CONVERSATION_INACTIVITY_TIMEOUT_SECONDS", 24 * 3600, 60, 30 * 24 * 3600),
    inactivitySweepIntervalMs: reader.integer("INACTIVITY_SWEEP_INTERVAL_MS", 60_000, 100, 3_600_000),
    templateSyncIntervalSeconds: reader.integer("TEMPLATE_SYNC_INTERVAL_SECONDS", 3_600, 0, 7 * 24 * 3600),
    otp: {
      maxAttempts: reader.integer("OTP_MAX_ATTEMPTS", 5, 1, 20),
      resendCooldownSeconds: reader.integer("OTP_RESEND_COOLDOWN_SECONDS", 60, 0, 3_600),
      maxPerPhonePerHour: reader.integer("OTP_MAX_PER_PHONE_PER_HOUR", 10, 0, 10_000),
      maxPerTenantPerMinute: reader.integer("OTP_MAX_PER_TENANT_PER_MINUTE", 600, 0, 1_000_000),
      templateName: reader.optional("OTP_TEMPLATE_NAME"),
      templateLanguage: reader.string("OTP_TEMPLATE_LANGUAGE", "en_US"),
    },
  };

  if (!/^[A-Za-z0-9_-]{1,64}$/.test(config.natsStream)) {
    reader.problems.push(`NATS_STREAM: letters, digits, "_" and "-" only, at most 64 (got "${config.natsStream}")`);
  }
  if (!/^v\d+\.\d+$/.test(config.whatsappApiVersion)) {
    reader.problems.push(`WHATSAPP_API_VERSION: must look like v23.0 (got "${config.whatsappApiVersion}")`);
  }

  if (config.otp.templateName !== undefined && !/^[a-z0-9_]{1,512}$/.test(config.otp.templateName)) {
    reader.problems.push(`OTP_TEMPLATE_NAME: lowercase letters, digits and "_" only (got "${config.otp.templateName}")`);
  }
  if (!/^[a-z]{2,3}([_-][A-Za-z0-9]{2,4})?$/.test(config.otp.templateLanguage)) {
    reader.problems.push(`OTP_TEMPLATE_LANGUAGE: must be a language code such as en or en_US (got "${config.otp.templateLanguage}")`);
  }

  checkAuth(reader, config);

  if (reader.problems.length > 0) throw new ConfigError(reader.problems);
  return config;
}

/**
 * Tuning of the sender worker (workers/sender.ts holds the defaults): tests
 * and benches shorten delays and windows. Plain numbers, so the worker, the
 * context and the tests share it without importing each other.
 */
export interface SenderTuning {
  workerId?: string;
  /** Slots are handed out this far ahead. Default 200 ms. */
  horizonMs?: number;
  /** Claims while busy. Default 50 ms. */
  claimIntervalMs?: number;
  /** Longest idle sleep without a wake-up. Default 500 ms. */
  pollIntervalMs?: number;
  /** Lease of a claimed job; far above the Graph timeout. Default 120 s. */
  leaseMs?: number;
  /** Share of each account's rate kept free for jitter. Default 0.04. */
  headroom?: number;
  /** Claimed sends not yet recorded, at most. Default 4,000. */
  maxInFlight?: number;
  /** Most jobs one claim takes for one account. Default 1,000. */
  maxPerAccount?: number;
  /** Results are recorded at least this often. Default 25 ms. */
  flushIntervalMs?: number;
  /** After a 130429, the account's next slot is pushed this far out. Default 1,000 ms. */
  throttlePauseMs?: number;
  /** Backoff of retryable errors (domain/send-policy.ts RetryPolicy). */
  retry?: Partial<{ maxAttempts: number; baseDelayMs: number; maxDelayMs: number; pairRateBaseDelayMs: number }>;
  /** The accounts' circuit breaker (domain/circuit-breaker.ts CircuitSettings). */
  circuit?: Partial<{ failureThreshold: number; openMs: number; probeTimeoutMs: number }>;
  /** How long and how often a send whose outcome is unknown is looked for in status webhooks. */
  reconcile?: Partial<{ windowMs: number; checkEveryMs: number }>;
  /** Jitter source (tests make it fixed). */
  random?: () => number;
}

/** Tuning of the inbox worker (workers/inbox-worker.ts holds the defaults; bench/ and tests tune it). */
export interface InboxTuning {
  workerId?: string;
  concurrency?: number;
  batchSize?: number;
  gatherMs?: number;
  pollIntervalMs?: number;
  leaseMs?: number;
  maxAttempts?: number;
  retryDelayMs?: number;
}
