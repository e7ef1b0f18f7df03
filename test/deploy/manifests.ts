/**
 * Reads deploy/kubernetes/ and checks it three ways, with no cluster:
 * - each object against the Kubernetes OpenAPI schemas, through the
 *   `kubernetes-models` classes (`.validate()`: types, required fields);
 * - each object for fields the schemas do not define (the JSON schemas allow
 *   them, as the API server's do; `kubectl apply` would refuse them):
 *   type-checked against the package's interfaces for its kind;
 * - against this service: probe paths it serves, environment variables its
 *   config reads, selectors that select, Secret keys that exist, a grace
 *   period longer than its drain, a non-root user matching the image's.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { Job } from "kubernetes-models/batch/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Namespace, Secret, Service } from "kubernetes-models/v1";
import ts from "typescript";
import { parseAllDocuments } from "yaml";

import { ROOT } from "./dockerfile.js";

export const MANIFESTS_DIR = path.join(ROOT, "deploy/kubernetes");

/** A parsed object; fields are read through the narrow types below, never trusted blindly. */
export interface Manifest {
  file: string;
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // Kubernetes objects are deep and varied; the checks narrow what they read.
  [field: string]: unknown;
}

type Validating = new (data: unknown) => { validate(): void };

/** The kinds we ship, each with its schema-checking model. */
const MODELS: Record<string, Validating> = {
  "v1/Namespace": Namespace as unknown as Validating,
  "v1/ConfigMap": ConfigMap as unknown as Validating,
  "v1/Secret": Secret as unknown as Validating,
  "v1/Service": Service as unknown as Validating,
  "apps/v1/Deployment": Deployment as unknown as Validating,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler as unknown as Validating,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget as unknown as Validating,
  "batch/v1/Job": Job as unknown as Validating,
};

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return yamlFiles(full);
    return /\.ya?ml$/.test(entry.name) ? [full] : [];
  });
}

/** Every document of every YAML file under `dir`; a YAML syntax error is thrown, naming the file. */
export function loadManifests(dir = MANIFESTS_DIR): Manifest[] {
  return yamlFiles(dir).flatMap((file) => parseManifests(readFileSync(file, "utf8"), path.relative(dir, file)));
}

export function parseManifests(text: string, file: string): Manifest[] {
  return parseAllDocuments(text).flatMap((doc): Manifest[] => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join("; ")}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return [];
    if (typeof value !== "object" || Array.isArray(value)) throw new Error(`${file}: a document is not an object`);
    return [{ ...(value as Omit<Manifest, "file">), file } as Manifest];
  });
}

/** Schema problems of one object ("" when valid): unknown kinds are problems too. */
export function schemaProblem(manifest: Manifest): string | undefined {
  const model = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
  const where = `${manifest.file}: ${manifest.kind} ${manifest.metadata?.name}`;
  if (!model) return `${where}: no schema for ${manifest.apiVersion} ${manifest.kind}`;
  const { file: _file, ...object } = manifest;
  try {
    new model(object).validate();
    return undefined;
  } catch (error) {
    return `${where}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

// ---- narrow views of the fields the consistency checks read ----

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
  };
}
interface Probe {
  httpGet?: { path: string; port: number | string };
  grpc?: { port: number };
}
export interface Container {
  name: string;
  image: string;
  command?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; runAsNonRoot?: boolean; runAsUser?: number };
}
export interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; runAsGroup?: number };
}
interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec: PodSpec;
}
export interface DeploymentLike extends Manifest {
  spec: { replicas?: number; selector: { matchLabels?: Record<string, string> }; template: PodTemplate };
}
interface ServiceLike extends Manifest {
  spec: { selector?: Record<string, string>; ports: { port: number; targetPort?: number | string; appProtocol?: string }[] };
}
interface HpaLike extends Manifest {
  spec: { scaleTargetRef: { kind: string; name: string }; minReplicas?: number; maxReplicas: number };
}
interface PdbLike extends Manifest {
  spec: { selector?: { matchLabels?: Record<string, string> } };
}
export interface JobLike extends Manifest {
  spec: { template: PodTemplate };
}
export interface KeyValues extends Manifest {
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export function ofKind<T extends Manifest>(manifests: readonly Manifest[], kind: string): T[] {
  return manifests.filter((m) => m.kind === kind) as T[];
}

function matches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** The paths `/health…` the HTTP health routes answer, read from their source so the probes follow the code. */
export function servedHealthPaths(): Set<string> {
  const source = readFileSync(path.join(ROOT, "src/adapters/http/health-routes.ts"), "utf8");
  return new Set([...source.matchAll(/case "(\/health[^"]*)":/g)].map((m) => m[1]!));
}

/** Every environment variable `loadConfig` reads, from src/config.ts. */
export function configVariables(): Set<string> {
  const source = readFileSync(path.join(ROOT, "src/config.ts"), "utf8");
  return new Set([...source.matchAll(/reader\.\w+(?:<[^>]*>)?\("([A-Z][A-Z0-9_]*)"/g)].map((m) => m[1]!));
}

/** Kubernetes quantities we use (Mi, Gi, plain bytes) in MiB. */
export function mebibytes(quantity: string): number {
  const m = /^(\d+)(Mi|Gi)?$/.exec(quantity);
  if (!m) throw new Error(`memory quantity not understood: ${quantity}`);
  const n = Number(m[1]);
  return m[2] === "Gi" ? n * 1024 : m[2] === "Mi" ? n : n / (1024 * 1024);
}

/** The seconds a preStop hook waits: `sleep N` (exec) or the sleep action; 0 without one. */
export function preStopSeconds(container: Container): number {
  const preStop = container.lifecycle?.preStop;
  if (preStop?.sleep) return preStop.sleep.seconds;
  const command = preStop?.exec?.command;
  if (command && command.length === 2 && /(^|\/)sleep$/.test(command[0]!) && /^\d+$/.test(command[1]!)) return Number(command[1]);
  return 0;
}

export interface ServiceFacts {
  healthPaths: ReadonlySet<string>;
  variables: ReadonlySet<string>;
  /** The image's USER uid. */
  imageUid: number;
  /** Memory the service may need at peak (SPEC: ≤ 256 MB RSS). */
  memoryMiB: number;
  /** After SHUTDOWN_GRACE_MS: workers stopping and the pool closing. */
  drainMarginSeconds: number;
}

/** Everything wrong with the set of manifests as a deployment of this service; empty when none. */
export function consistencyProblems(manifests: readonly Manifest[], facts: ServiceFacts): string[] {
  const problems: string[] = [];
  const deployments = ofKind<DeploymentLike>(manifests, "Deployment");
  const configMaps = ofKind<KeyValues>(manifests, "ConfigMap");
  const secrets = ofKind<KeyValues>(manifests, "Secret");
  const namespaces = new Set(ofKind(manifests, "Namespace").map((n) => n.metadata.name));
  const pods: { where: string; template: PodTemplate }[] = [
    ...deployments.map((d) => ({ where: `Deployment ${d.metadata.name}`, template: d.spec.template })),
    ...ofKind<JobLike>(manifests, "Job").map((j) => ({ where: `Job ${j.metadata.name}`, template: j.spec.template })),
  ];

  for (const m of manifests) {
    if (m.kind !== "Namespace" && !namespaces.has(m.metadata.namespace ?? "")) {
      problems.push(`${m.kind} ${m.metadata.name}: namespace ${m.metadata.namespace} is not one of the Namespaces shipped`);
    }
  }

  for (const d of deployments) {
    if (!matches(d.spec.selector.matchLabels, d.spec.template.metadata?.labels)) {
      problems.push(`Deployment ${d.metadata.name}: its selector does not select its own pod template`);
    }
  }

  const images = new Set<string>();
  for (const { where, template } of pods) {
    const spec = template.spec;
    const podSecurity = spec.securityContext;
    if (podSecurity?.runAsNonRoot !== true) problems.push(`${where}: runAsNonRoot is not true`);
    if (podSecurity?.runAsUser !== facts.imageUid) problems.push(`${where}: runAsUser ${podSecurity?.runAsUser} is not the image's uid ${facts.imageUid}`);
    for (const c of spec.containers) {
      images.add(c.image);
      if (c.securityContext?.readOnlyRootFilesystem !== true) problems.push(`${where}/${c.name}: readOnlyRootFilesystem is not true`);
      if (c.securityContext?.allowPrivilegeEscalation !== false) problems.push(`${where}/${c.name}: allowPrivilegeEscalation is not false`);
      const limit = c.resources?.limits?.memory;
      if (!limit || mebibytes(limit) < facts.memoryMiB) problems.push(`${where}/${c.name}: memory limit ${limit} is below ${facts.memoryMiB}Mi`);
      if (!c.resources?.requests?.memory || !c.resources.requests.cpu) problems.push(`${where}/${c.name}: no cpu and memory requests`);

      for (const from of c.envFrom ?? []) {
        if (from.configMapRef && !configMaps.some((cm) => cm.metadata.name === from.configMapRef!.name)) {
          problems.push(`${where}/${c.name}: envFrom names ConfigMap ${from.configMapRef.name}, which is not shipped`);
        }
        if (from.configMapRef) {
          for (const key of Object.keys(configMaps.find((cm) => cm.metadata.name === from.configMapRef!.name)?.data ?? {})) {
            if (!facts.variables.has(key)) problems.push(`ConfigMap ${from.configMapRef.name}: ${key} is not a variable the service reads`);
          }
        }
        if (from.secretRef) problems.push(`${where}/${c.name}: use secretKeyRef per variable, not envFrom secretRef`);
      }
      for (const env of c.env ?? []) {
        if (!facts.variables.has(env.name)) problems.push(`${where}/${c.name}: ${env.name} is not a variable the service reads`);
        const ref = env.valueFrom?.secretKeyRef;
        if (ref) {
          const secret = secrets.find((s) => s.metadata.name === ref.name);
          if (!secret) problems.push(`${where}/${c.name}: ${env.name} refers to Secret ${ref.name}, which has no example`);
          else if (!(ref.key in { ...secret.data, ...secret.stringData })) problems.push(`${where}/${c.name}: ${env.name} refers to key ${ref.key}, missing from the example Secret`);
        }
        if (env.value !== undefined && /secret|password|key$/i.test(env.name)) problems.push(`${where}/${c.name}: ${env.name} is written in clear; use a secretKeyRef`);
      }

      for (const [kind, probe] of [
        ["startupProbe", c.startupProbe],
        ["readinessProbe", c.readinessProbe],
        ["livenessProbe", c.livenessProbe],
      ] as const) {
        if (!probe) continue;
        if (probe.httpGet) {
          if (!facts.healthPaths.has(probe.httpGet.path)) problems.push(`${where}/${c.name}: ${kind} asks ${probe.httpGet.path}, which the service does not serve`);
          const port = probe.httpGet.port;
          if (typeof port === "string" ? !c.ports?.some((p) => p.name === port) : !c.ports?.some((p) => p.containerPort === port)) {
            problems.push(`${where}/${c.name}: ${kind} port ${port} is not a container port`);
          }
        }
      }
    }
  }
  if (images.size !== 1) problems.push(`the Deployments and the Job should run one image, found: ${[...images].join(", ")}`);

  for (const d of deployments) {
    const spec = d.spec.template.spec;
    for (const c of spec.containers) {
      if (!c.livenessProbe || !c.readinessProbe) problems.push(`Deployment ${d.metadata.name}/${c.name}: needs liveness and readiness probes`);
      const env = containerEnv(c, configMaps, {});
      const graceMs = Number(env.SHUTDOWN_GRACE_MS ?? 10_000);
      const needed = preStopSeconds(c) + graceMs / 1000 + facts.drainMarginSeconds;
      const given = spec.terminationGracePeriodSeconds ?? 30;
      if (given < needed) {
        problems.push(`Deployment ${d.metadata.name}: terminationGracePeriodSeconds ${given} < preStop ${preStopSeconds(c)} s + SHUTDOWN_GRACE_MS ${graceMs} ms + ${facts.drainMarginSeconds} s`);
      }
    }
  }

  for (const s of ofKind<ServiceLike>(manifests, "Service")) {
    const selected = deployments.filter((d) => matches(s.spec.selector, d.spec.template.metadata?.labels));
    if (selected.length === 0) problems.push(`Service ${s.metadata.name}: selects no Deployment`);
    for (const d of selected) {
      for (const c of d.spec.template.spec.containers) {
        if (preStopSeconds(c) === 0) problems.push(`Deployment ${d.metadata.name}/${c.name}: takes Service traffic but has no preStop sleep (requests would reach a pod already stopping)`);
      }
      for (const p of s.spec.ports) {
        const target = p.targetPort ?? p.port;
        const found = d.spec.template.spec.containers.some((c) =>
          c.ports?.some((cp) => (typeof target === "string" ? cp.name === target : cp.containerPort === target)),
        );
        if (!found) problems.push(`Service ${s.metadata.name}: targetPort ${target} is no port of Deployment ${d.metadata.name}`);
      }
    }
  }

  for (const h of ofKind<HpaLike>(manifests, "HorizontalPodAutoscaler")) {
    const target = deployments.find((d) => h.spec.scaleTargetRef.kind === "Deployment" && d.metadata.name === h.spec.scaleTargetRef.name);
    if (!target) problems.push(`HorizontalPodAutoscaler ${h.metadata.name}: scales ${h.spec.scaleTargetRef.name}, which is not shipped`);
    else if (target.spec.replicas !== undefined) problems.push(`Deployment ${target.metadata.name}: sets replicas although an HPA owns them (each apply would reset the count)`);
    if ((h.spec.minReplicas ?? 1) < 2) problems.push(`HorizontalPodAutoscaler ${h.metadata.name}: fewer than 2 replicas leaves no API during a rollout or drain`);
  }

  for (const p of ofKind<PdbLike>(manifests, "PodDisruptionBudget")) {
    const selected = deployments.filter((d) => matches(p.spec.selector?.matchLabels, d.spec.template.metadata?.labels));
    if (selected.length !== 1) problems.push(`PodDisruptionBudget ${p.metadata.name}: selects ${selected.length} Deployments, not one`);
  }
  return problems;
}

/** A container's environment as the pod would get it: envFrom ConfigMaps, then `env` (which wins), Secrets from `secretValues`. */
export function containerEnv(container: Container, configMaps: readonly KeyValues[], secretValues: Readonly<Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, configMaps.find((cm) => cm.metadata.name === from.configMapRef!.name)?.data ?? {});
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    const ref = e.valueFrom?.secretKeyRef;
    if (ref && secretValues[ref.key] !== undefined) env[e.name] = secretValues[ref.key]!;
    const cmRef = e.valueFrom?.configMapKeyRef;
    const fromConfigMap = cmRef ? configMaps.find((cm) => cm.metadata.name === cmRef.name)?.data?.[cmRef.key] : undefined;
    if (fromConfigMap !== undefined) env[e.name] = fromConfigMap;
  }
  return env;
}

/** Where each kind's TypeScript interface lives (kubernetes-models' declarations, generated from the same schemas). */
const INTERFACES: Record<string, { module: string; name: string }> = {
  "v1/Namespace": { module: "kubernetes-models/v1", name: "INamespace" },
  "v1/ConfigMap": { module: "kubernetes-models/v1", name: "IConfigMap" },
  "v1/Secret": { module: "kubernetes-models/v1", name: "ISecret" },
  "v1/Service": { module: "kubernetes-models/v1", name: "IService" },
  "apps/v1/Deployment": { module: "kubernetes-models/apps/v1", name: "IDeployment" },
  "autoscaling/v2/HorizontalPodAutoscaler": { module: "kubernetes-models/autoscaling/v2", name: "IHorizontalPodAutoscaler" },
  "policy/v1/PodDisruptionBudget": { module: "kubernetes-models/policy/v1", name: "IPodDisruptionBudget" },
  "batch/v1/Job": { module: "kubernetes-models/batch/v1", name: "IJob" },
};

/**
 * Fields the schemas do not define (a typo such as `readinessprobe`, a field
 * at the wrong level): the JSON schemas allow them, so each object is
 * type-checked as an object literal of its kind's interface instead —
 * TypeScript's excess-property check refuses unknown fields at every depth.
 * One problem per object that has any, with the compiler's message.
 */
export function unknownFieldProblems(manifests: readonly Manifest[]): string[] {
  const virtual = path.join(ROOT, "test/deploy/__manifest-fields__.ts");
  const imports = new Map<string, Set<string>>();
  const statements: { manifest: Manifest; start: number; end: number }[] = [];
  let body = "";
  const unknown: string[] = [];
  manifests.forEach((manifest, i) => {
    const type = INTERFACES[`${manifest.apiVersion}/${manifest.kind}`];
    if (!type) {
      unknown.push(`${manifest.file}: no interface for ${manifest.apiVersion} ${manifest.kind}`);
      return;
    }
    (imports.get(type.module) ?? imports.set(type.module, new Set()).get(type.module)!).add(type.name);
    const { file: _file, ...object } = manifest;
    const statement = `export const m${i}: ${type.name} = ${JSON.stringify(object, null, 1)};\n`;
    statements.push({ manifest, start: body.length, end: body.length + statement.length });
    body += statement;
  });
  const header = [...imports].map(([module, names]) => `import type { ${[...names].join(", ")} } from "${module}";\n`).join("");
  const text = header + body;

  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, ...rest) =>
    path.resolve(fileName) === virtual ? ts.createSourceFile(fileName, text, languageVersion) : getSourceFile(fileName, languageVersion, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => path.resolve(fileName) === virtual || fileExists(fileName);
  const program = ts.createProgram([virtual], options, host);
  const problems = [...unknown];
  const byManifest = new Map<Manifest, string[]>();
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n");
    const at = (diagnostic.start ?? -1) - header.length;
    const owner = diagnostic.file && path.resolve(diagnostic.file.fileName) === virtual ? statements.find((s) => at >= s.start && at < s.end) : undefined;
    if (!owner) {
      problems.push(`type check of the manifests failed: ${message}`);
      continue;
    }
    const list = byManifest.get(owner.manifest) ?? [];
    list.push(message.split("\n").at(-1)!);
    byManifest.set(owner.manifest, list);
  }
  for (const [manifest, messages] of byManifest) problems.push(`${manifest.file}: ${manifest.kind} ${manifest.metadata.name}: ${messages.join("; ")}`);
  return problems;
}
