/**
 * What the REST tests share: the API's routes compiled from gen/ (the same
 * compiler the service uses, so a new RPC is walked without a test change),
 * and plain HTTP calls with fetch — what curl and KrakenD send.
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import type { DescFile, DescService } from "@bufbuild/protobuf";
import { compileRouteTable, type RestRoute, type RouteTable } from "../../src/adapters/http/rest/route-table.js";

const GEN_DIR = path.resolve(import.meta.dirname, "../../gen/whatsapp/v1");

/** Every service of gen/whatsapp/v1, found by reading the directory. */
export async function apiServices(): Promise<DescService[]> {
  const services: DescService[] = [];
  for (const file of (await readdir(GEN_DIR)).filter((f) => f.endsWith("_pb.ts")).sort()) {
    const module = (await import(path.join(GEN_DIR, file))) as Record<string, unknown>;
    for (const value of Object.values(module)) {
      if (typeof value === "object" && value !== null && (value as DescFile).kind === "file") services.push(...(value as DescFile).services);
    }
  }
  return services;
}

export async function apiRouteTable(): Promise<RouteTable> {
  return compileRouteTable(await apiServices());
}

/** The route's path with each variable replaced by `valueOf(fieldPath)` (URL-encoded). */
export function fillPath(route: RestRoute, valueOf: (fieldPath: string) => string): string {
  const { template } = route;
  const parts: string[] = [];
  for (let i = 0; i < template.segments.length; ) {
    const variable = template.variables.find((v) => v.start === i);
    if (variable !== undefined) {
      parts.push(encodeURIComponent(valueOf(variable.fieldPath)));
      i = variable.end === Infinity ? template.segments.length : variable.end;
      continue;
    }
    const segment = template.segments[i]!;
    parts.push(segment.kind === "literal" ? segment.value : "x");
    i++;
  }
  return `/${parts.join("/")}${template.verb === undefined ? "" : `:${template.verb}`}`;
}

export interface RestAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown>;
}

export async function rest(
  baseUrl: string,
  verb: string,
  pathAndQuery: string,
  options: { token?: string | undefined; body?: unknown; headers?: Record<string, string> } = {},
): Promise<RestAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${baseUrl}${pathAndQuery}`, {
    method: verb,
    headers,
    ...(options.body === undefined ? {} : { body: typeof options.body === "string" ? options.body : JSON.stringify(options.body) }),
  });
  if ((response.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
    // A stream that opened: enough for the caller; never read to its end.
    await response.body?.cancel();
    return { status: response.status, headers: response.headers, text: "", json: {} };
  }
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: the test says what it expected
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** The `@type`s and reasons of a google.rpc.Status body's details. */
export function detailTypes(body: Record<string, unknown>): string[] {
  return ((body.details as { "@type": string }[] | undefined) ?? []).map((d) => d["@type"]);
}
