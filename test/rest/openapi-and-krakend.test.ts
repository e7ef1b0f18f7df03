/**
 * Acceptance 5 and 6 of REST: the committed OpenAPI document is what
 * /openapi.json serves, validates as OpenAPI 3.1 and lists every REST route;
 * deploy/krakend/krakend.json is valid JSON whose endpoints are exactly the
 * routes of the annotations, each one served by the service.
 * (Staleness against proto/ is `npm run generate:check`, as for gen/.)
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { validate } from "@readme/openapi-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RouteTable } from "../../src/adapters/http/rest/route-table.js";
import { openApiPath } from "../../scripts/openapi/openapi.js";
import { startTestService, type TestService } from "../support/service.js";
import { apiRouteTable, rest } from "./support.js";

type OpenApiDocument = Parameters<typeof validate>[0];
const ROOT = path.resolve(import.meta.dirname, "../..");
const committedOpenApi = () => readFileSync(path.join(ROOT, "openapi/openapi.json"), "utf8");

interface KrakendEndpoint {
  endpoint: string;
  method: string;
  output_encoding: string;
  input_headers: string[];
  input_query_strings: string[];
  backend: { url_pattern: string; method: string; encoding: string; host: string[] }[];
}

describe("the OpenAPI document and the KrakenD configuration", () => {
  let table: RouteTable;
  let svc: TestService;

  beforeAll(async () => {
    table = await apiRouteTable();
    svc = await startTestService();
  });
  afterAll(async () => svc?.cleanup());

  it("when /openapi.json is fetched, then it is the committed document", async () => {
    const response = await fetch(`${svc.service.url}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await response.text()).toBe(committedOpenApi());
  });

  it("when the document is validated with an OpenAPI validator, then it is valid 3.1; a broken copy is not", async () => {
    const doc = JSON.parse(committedOpenApi()) as Record<string, unknown>;
    expect(doc.openapi).toBe("3.1.0");
    const result = await validate(structuredClone(doc) as unknown as OpenApiDocument);
    expect(result).toMatchObject({ valid: true, specification: "OpenAPI" });
    // The validator is not a rubber stamp.
    const broken = structuredClone(doc) as { paths: Record<string, Record<string, { parameters: { in: string; required: boolean }[] }>> };
    broken.paths["/api/accounts/{account_id}"]!.get!.parameters.find((p) => p.in === "path")!.required = false;
    expect((await validate(broken as unknown as OpenApiDocument)).valid).toBe(false);
  });

  it("when the document's operations are compared with the routes of the annotations, then each route is there once and nothing else", () => {
    const doc = JSON.parse(committedOpenApi()) as {
      paths: Record<string, Record<string, { operationId: string; parameters?: { name: string; in: string }[]; requestBody?: unknown }>>;
      components: { securitySchemes: Record<string, { scheme?: string }>; schemas: Record<string, unknown> };
      security: unknown;
    };
    const documented = Object.entries(doc.paths).flatMap(([p, item]) => Object.keys(item).map((verb) => `${verb.toUpperCase()} ${p}`));
    const routes = table.routes.map((r) => `${r.verb} ${openApiPath(r)}`);
    expect(documented.sort()).toEqual([...routes].sort());
    for (const route of table.routes) {
      const operation = doc.paths[openApiPath(route)]![route.verb.toLowerCase()]!;
      expect(operation.parameters?.filter((p) => p.in === "path").map((p) => p.name).sort(), openApiPath(route)).toEqual(route.pathFields.map((f) => f.fieldPath.replaceAll(".", "_")).sort());
      expect(operation.requestBody !== undefined, `${route.verb} ${openApiPath(route)} body`).toBe(route.body !== undefined);
    }
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.components.schemas["google.rpc.Status"]).toBeDefined();
    // Descriptions come from the proto comments.
    expect(JSON.stringify(doc.paths["/api/messages/failed"])).toContain("FAILED");
  });

  it("when krakend.json is read, then its endpoints are exactly the annotated routes, passed through with no-op encoding and the Authorization header", () => {
    const config = JSON.parse(readFileSync(path.join(ROOT, "deploy/krakend/krakend.json"), "utf8")) as { version: number; endpoints: KrakendEndpoint[] };
    expect(config.version).toBe(3);
    const endpoints = config.endpoints.map((e) => `${e.method} ${e.endpoint}`);
    expect(new Set(endpoints).size).toBe(endpoints.length);
    expect([...endpoints].sort()).toEqual(table.routes.map((r) => `${r.verb} ${openApiPath(r)}`).sort());
    for (const e of config.endpoints) {
      expect(e.output_encoding).toBe("no-op");
      expect(e.input_headers).toContain("Authorization");
      expect(e.backend).toHaveLength(1);
      expect(e.backend[0]).toMatchObject({ url_pattern: e.endpoint, method: e.method, encoding: "no-op" });
    }
    expect(config.endpoints.find((e) => e.endpoint === "/api/events")!.input_headers).toContain("Last-Event-ID");
    expect(config.endpoints.find((e) => e.endpoint === "/api/conversations" && e.method === "GET")!.input_query_strings).toEqual(
      expect.arrayContaining(["page_size", "page_token", "account_id", "status", "window_open"]),
    );
    // KrakenD's router needs one placeholder name per position under a shared prefix.
    const names = new Map<string, string>();
    for (const e of config.endpoints) {
      const parts = e.endpoint.split("/");
      parts.forEach((part, i) => {
        if (!part.startsWith("{")) return;
        const key = `${parts.slice(0, i).join("/")}#${i}`;
        expect(names.get(key) ?? part, e.endpoint).toBe(part);
        names.set(key, part);
      });
    }
  });

  it("when each KrakenD endpoint is requested from the service with its placeholders filled, then the service serves it (never 'no route' or 405)", async () => {
    const config = JSON.parse(readFileSync(path.join(ROOT, "deploy/krakend/krakend.json"), "utf8")) as { endpoints: KrakendEndpoint[] };
    for (const e of config.endpoints) {
      const url = e.backend[0]!.url_pattern.replace(/\{[^}]+\}/g, "01900000-0000-7000-8000-000000000000");
      const answer = await rest(svc.service.url, e.method, url, { headers: { "x-tenant-id": "krakend-check" }, body: e.method === "GET" || e.method === "DELETE" ? undefined : {} });
      expect({ endpoint: `${e.method} ${e.endpoint}`, status: answer.status === 405 ? 405 : "served" }).toEqual({ endpoint: `${e.method} ${e.endpoint}`, status: "served" });
      expect(answer.text, `${e.method} ${e.endpoint}`).not.toContain("no route for");
    }
  });
});
