/**
 * deploy/kubernetes/ validated with no cluster: every object against the
 * Kubernetes schemas (kubernetes-models; unknown fields too), the set against this service
 * (manifests.ts), and each container's environment through the service's own
 * configuration check. Each check is also shown to catch a broken copy.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

import { ALL_WORKERS, ConfigError, loadConfig } from "../../src/config.js";
import { readDockerfile, ROOT, single } from "./dockerfile.js";
import {
  configVariables,
  consistencyProblems,
  containerEnv,
  loadManifests,
  ofKind,
  parseManifests,
  schemaProblem,
  servedHealthPaths,
  unknownFieldProblems,
  type DeploymentLike,
  type JobLike,
  type KeyValues,
  type Manifest,
  type ServiceFacts,
} from "./manifests.js";

const manifests = loadManifests();
const imageUser = single(readDockerfile().runtime, "USER").args;
const FACTS: ServiceFacts = {
  healthPaths: servedHealthPaths(),
  variables: configVariables(),
  imageUid: Number(imageUser.split(":")[0]),
  memoryMiB: 256,
  drainMarginSeconds: 10,
};

/** A deep copy to break in a negative check. */
function copyOf<T>(value: T): T {
  return structuredClone(value);
}

function deployment(name: string, from: readonly Manifest[] = manifests): DeploymentLike {
  const found = ofKind<DeploymentLike>(from, "Deployment").find((d) => d.metadata.name === name);
  if (!found) throw new Error(`no Deployment ${name}`);
  return found;
}

const configMaps = ofKind<KeyValues>(manifests, "ConfigMap");
const exampleSecret = ofKind<KeyValues>(manifests, "Secret")[0]!;
/** Valid stand-ins for the example Secret's placeholders. */
const SECRET_VALUES: Record<string, string> = {
  "database-url": "postgres://whatsapp:pw@postgres.messaging:5432/whatsapp",
  "encryption-key": randomBytes(32).toString("base64"),
  "auth-jwt-secret": randomBytes(32).toString("hex"),
  "meta-app-secret": "app-secret",
  "meta-verify-token": "verify-token",
};

describe("the Kubernetes manifests against the Kubernetes schemas", () => {
  it("when every file is read, then it holds the objects of a deployment of this service", () => {
    const kinds = manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort();
    expect(kinds).toEqual(
      [
        "ConfigMap/whatsapp-service-config",
        "Deployment/whatsapp-service-api",
        "Deployment/whatsapp-service-workers",
        "HorizontalPodAutoscaler/whatsapp-service-api",
        "Job/whatsapp-service-migrate",
        "Namespace/messaging",
        "PodDisruptionBudget/whatsapp-service-api",
        "PodDisruptionBudget/whatsapp-service-workers",
        "Secret/whatsapp-service-secrets",
        "Service/whatsapp-service",
      ].sort(),
    );
  });

  it("when each object is validated, then none has a schema problem", () => {
    expect(manifests.map(schemaProblem).filter((p) => p !== undefined)).toEqual([]);
  });

  it("when a Deployment has a string containerPort or loses its selector, then the schema check says so", () => {
    const badPort = copyOf(deployment("whatsapp-service-api"));
    (badPort.spec.template.spec.containers[0]!.ports![0] as { containerPort: unknown }).containerPort = "8000";
    expect(schemaProblem(badPort)).toMatch(/containerPort must be integer/);

    const noSelector = copyOf(deployment("whatsapp-service-workers")) as { spec: Partial<DeploymentLike["spec"]> } & Manifest;
    delete noSelector.spec.selector;
    expect(schemaProblem(noSelector)).toMatch(/spec must have required property selector/);
  });

  it("when each object is type-checked against its kind's interface, then none has a field the schemas do not define", () => {
    expect(unknownFieldProblems(manifests)).toEqual([]);
  }, 60_000);

  it("when a field is misspelt or put at the wrong level, then the strict field check names it", () => {
    const broken = copyOf(manifests);
    const container = deployment("whatsapp-service-api", broken).spec.template.spec.containers[0]! as unknown as Record<string, unknown>;
    container.readinessprobe = container.readinessProbe;
    (deployment("whatsapp-service-workers", broken).spec as unknown as Record<string, unknown>).terminationGracePeriodSeconds = 60;
    const problems = unknownFieldProblems(broken).join("\n");
    expect(problems).toMatch(/Deployment whatsapp-service-api: .*'"readinessprobe"' does not exist in type 'IContainer'/);
    expect(problems).toMatch(/Deployment whatsapp-service-workers: .*'"terminationGracePeriodSeconds"' does not exist in type 'IDeploymentSpec'/);
  }, 60_000);

  it("when a file has a kind we have no schema for, or broken YAML, then it is refused", () => {
    const [unknownKind] = parseManifests("apiVersion: v1\nkind: Pdo\nmetadata:\n  name: x\n", "typo.yaml");
    expect(schemaProblem(unknownKind!)).toMatch(/no schema for v1 Pdo/);
    expect(() => parseManifests("kind: [unclosed\n", "broken.yaml")).toThrow(/broken\.yaml/);
  });
});

describe("the Kubernetes manifests against this service", () => {
  it("when the set is checked, then probes, variables, selectors, Secret keys, grace periods and users all agree with the code", () => {
    expect([...FACTS.healthPaths]).toEqual(expect.arrayContaining(["/health", "/health/db"]));
    expect(FACTS.variables.has("DATABASE_URL") && FACTS.variables.has("WORKERS")).toBe(true);
    expect(consistencyProblems(manifests, FACTS)).toEqual([]);
  });

  it("when a copy is broken in each way the checks know, then each break is reported", () => {
    const broken = copyOf(manifests);
    const api = deployment("whatsapp-service-api", broken);
    const container = api.spec.template.spec.containers[0]!;
    container.readinessProbe!.httpGet!.path = "/healthz";
    container.env!.find((e) => e.name === "DATABASE_URL")!.name = "DATABSE_URL";
    container.env!.find((e) => e.name === "ENCRYPTION_KEY")!.valueFrom!.secretKeyRef!.key = "encryption_key";
    api.spec.template.spec.terminationGracePeriodSeconds = 10;
    api.spec.template.spec.securityContext!.runAsUser = 0;
    delete container.lifecycle;
    const workers = deployment("whatsapp-service-workers", broken);
    workers.spec.template.metadata!.labels!["app.kubernetes.io/component"] = "worker";

    const problems = consistencyProblems(broken, FACTS).join("\n");
    expect(problems).toContain("asks /healthz, which the service does not serve");
    expect(problems).toContain("DATABSE_URL is not a variable the service reads");
    expect(problems).toContain("refers to key encryption_key, missing from the example Secret");
    expect(problems).toMatch(/whatsapp-service-api: terminationGracePeriodSeconds 10 </);
    expect(problems).toContain("runAsUser 0 is not the image's uid 1000");
    expect(problems).toContain("takes Service traffic but has no preStop sleep");
    expect(problems).toContain("Deployment whatsapp-service-workers: its selector does not select its own pod template");
    expect(problems).toContain("PodDisruptionBudget whatsapp-service-workers: selects 0 Deployments");
  });

  it("when each container's environment goes through the service's configuration check, then the API runs no worker, the workers run all of them, and the Job is accepted", () => {
    const api = deployment("whatsapp-service-api").spec.template.spec.containers[0]!;
    const workers = deployment("whatsapp-service-workers").spec.template.spec.containers[0]!;
    const job = ofKind<JobLike>(manifests, "Job")[0]!.spec.template.spec.containers[0]!;

    const apiConfig = loadConfig(containerEnv(api, configMaps, SECRET_VALUES));
    expect([...apiConfig.workers]).toEqual([]);
    expect(apiConfig).toMatchObject({ embedded: false, authMode: "jwt", natsStreamReplicas: 3 });
    expect(apiConfig.metaAppSecret).toBe("app-secret");

    const workersConfig = loadConfig(containerEnv(workers, configMaps, SECRET_VALUES));
    expect([...workersConfig.workers].sort()).toEqual([...ALL_WORKERS].sort());

    expect(loadConfig(containerEnv(job, configMaps, SECRET_VALUES)).embedded).toBe(false);
  });

  it("when the example Secret is applied unchanged, then every value is a marked placeholder and the service refuses to start with them", () => {
    const values = Object.values(exampleSecret.stringData ?? {});
    expect(values.length).toBeGreaterThan(0);
    for (const value of values) expect(value).toContain("REPLACE_ME");
    expect(exampleSecret.data).toBeUndefined();
    const api = deployment("whatsapp-service-api").spec.template.spec.containers[0]!;
    const env = containerEnv(api, configMaps, exampleSecret.stringData ?? {});
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(/ENCRYPTION_KEY/);
  });

  it("when the migrate Job is read, then it runs what npm run migrate runs, from a file the build produces", () => {
    const command = ofKind<JobLike>(manifests, "Job")[0]!.spec.template.spec.containers[0]!.command;
    expect(command).toEqual(["node", "dist/src/migrate.js"]);
    const scripts = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    expect(scripts.migrate).toContain("node dist/src/migrate.js");
    expect(existsSync(path.join(ROOT, "src/migrate.ts"))).toBe(true);
  });

  it("when the Service is read, then it maps port 80 to the one port, marked h2c for gRPC", () => {
    const service = ofKind<Manifest & { spec: { ports: Record<string, unknown>[] } }>(manifests, "Service")[0]!;
    expect(service.spec.ports).toEqual([{ name: "http", port: 80, targetPort: "http", protocol: "TCP", appProtocol: "kubernetes.io/h2c" }]);
    expect(deployment("whatsapp-service-api").spec.template.spec.containers[0]!.ports).toEqual([{ name: "http", containerPort: 8000, protocol: "TCP" }]);
  });
});
