/**
 * docker-compose.yml without a Docker engine: read as YAML, its services and
 * ports checked, and the service's environment (with `${VAR:-default}`
 * defaults filled in, as compose would with nothing set) put through the
 * service's own configuration check.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

import { ConfigError, loadConfig } from "../../src/config.js";
import { ROOT } from "./dockerfile.js";
import { configVariables } from "./manifests.js";

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  profiles?: string[];
  stop_grace_period?: string;
  configs?: { source: string; target: string }[];
}
interface Compose {
  services: Record<string, ComposeService>;
  configs?: Record<string, { content: string }>;
}

const compose = parse(readFileSync(path.join(ROOT, "docker-compose.yml"), "utf8")) as Compose;
const service = compose.services["whatsapp-service"]!;

/** `${NAME:-default}` → default, as compose substitutes when NAME is unset; other `${…}` forms are refused. */
function withDefaults(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([name, value]) => {
      const resolved = String(value).replace(/\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/g, (whole, _var: string, fallback: string | undefined) => {
        if (fallback === undefined) throw new Error(`${name}: ${whole} has no default; the stack would not start with nothing set`);
        return fallback;
      });
      return [name, resolved];
    }),
  );
}

describe("docker-compose.yml", () => {
  it("when it is read, then it has PostgreSQL, NATS with JetStream, the service, and the collector only in the tracing profile", () => {
    expect(Object.keys(compose.services).sort()).toEqual(["nats", "otel-collector", "postgres", "whatsapp-service"]);
    expect(compose.services.postgres!.image).toMatch(/^postgres:\d+\.\d+/);
    expect(compose.services.nats!.image).toMatch(/^nats:\d+\.\d+\.\d+/);
    expect(compose.services.nats!.command).toContain("-js");
    expect(compose.services["otel-collector"]!.profiles).toEqual(["tracing"]);
    for (const name of ["postgres", "nats", "whatsapp-service"]) expect(compose.services[name]!.profiles).toBeUndefined();
  });

  it("when its ports are read, then the service is on 8000, PostgreSQL on 5432, NATS on 4222, OTLP on 4317/4318", () => {
    expect(service.ports).toEqual(["8000:8000"]);
    expect(compose.services.postgres!.ports).toEqual(["5432:5432"]);
    expect(compose.services.nats!.ports).toContain("4222:4222");
    expect(compose.services["otel-collector"]!.ports).toEqual(["4317:4317", "4318:4318"]);
  });

  it("when the service is read, then it is built from the Dockerfile and waits for healthy PostgreSQL and NATS", () => {
    expect(service.build).toEqual({ context: ".", dockerfile: "Dockerfile" });
    expect(existsSync(path.join(ROOT, service.build!.context, service.build!.dockerfile!))).toBe(true);
    expect(service.depends_on).toEqual({ postgres: { condition: "service_healthy" }, nats: { condition: "service_healthy" } });
    expect(compose.services.postgres!.healthcheck?.test[0]).toBe("CMD");
    expect(compose.services.nats!.healthcheck?.test.join(" ")).toContain("/healthz");
  });

  it("when its environment goes through the configuration check, then it runs on that PostgreSQL and NATS with AUTH_MODE=none explicitly allowed", () => {
    const env = withDefaults(service.environment!);
    const variables = configVariables();
    for (const name of Object.keys(env)) expect(variables, `${name} is not read by the service`).toContain(name);

    const config = loadConfig(env);
    expect(config).toMatchObject({ embedded: false, authMode: "none", authAllowNoneWithDatabase: true });
    const db = new URL(config.databaseUrl!);
    const pg = compose.services.postgres!.environment!;
    expect([db.hostname, db.port, db.username, db.password, db.pathname]).toEqual(["postgres", "5432", pg.POSTGRES_USER, pg.POSTGRES_PASSWORD, `/${pg.POSTGRES_DB}`]);
    expect(new URL(config.natsUrl!).host).toBe("nats:4222");
    // Compose's stop timeout covers the drain (SHUTDOWN_GRACE_MS and the workers after it).
    expect(Number(/^(\d+)s$/.exec(service.stop_grace_period!)![1]) * 1000).toBeGreaterThan(config.shutdownGraceMs + 10_000);
  });

  it("when AUTH_ALLOW_NONE_WITH_DATABASE is taken out, then the configuration check refuses it (the check above is not vacuous)", () => {
    const env = withDefaults(service.environment!);
    delete env.AUTH_ALLOW_NONE_WITH_DATABASE;
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(/AUTH_ALLOW_NONE_WITH_DATABASE/);
  });

  it("when the collector's config is read, then it receives OTLP over gRPC and HTTP and has a traces pipeline", () => {
    const source = compose.services["otel-collector"]!.configs![0]!.source;
    const config = parse(compose.configs![source]!.content) as {
      receivers: { otlp: { protocols: Record<string, { endpoint: string }> } };
      service: { pipelines: { traces: { receivers: string[] } } };
    };
    expect(config.receivers.otlp.protocols.grpc!.endpoint).toBe("0.0.0.0:4317");
    expect(config.receivers.otlp.protocols.http!.endpoint).toBe("0.0.0.0:4318");
    expect(config.service.pipelines.traces.receivers).toEqual(["otlp"]);
  });
});
