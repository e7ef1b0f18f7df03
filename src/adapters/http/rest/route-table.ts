import { getOption, hasOption, type DescField, type DescMessage, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { http } from "../../../../gen/google/api/annotations_pb.js";
import type { HttpRule } from "../../../../gen/google/api/http_pb.js";
import { compareSpecificity, matchTemplate, parseTemplate, type PathTemplate } from "./path-template.js";

/**
 * The REST routes, compiled once from the `google.api.http` annotation of
 * every method of the services given (the same descriptors the Connect router
 * serves) — there is no hand-written route list. Each binding of a rule
 * (`additional_bindings` included) is one route.
 */

export type HttpVerb = "GET" | "PUT" | "POST" | "DELETE" | "PATCH" | (string & {});

export interface RestRoute {
  service: DescService;
  method: DescMethod;
  verb: HttpVerb;
  template: PathTemplate;
  /** Each path variable with the field chain it sets (outermost first). */
  pathFields: { fieldPath: string; fields: DescField[] }[];
  /** `*`: the whole body is the request; a field: the body is that field; undefined: no body. */
  body: { kind: "all" } | { kind: "field"; field: DescField } | undefined;
  /** The response field sent as the body instead of the whole response. */
  responseField: DescField | undefined;
  /** 0 for the rule itself, 1… for its additional bindings. */
  binding: number;
}

export type RouteMatch =
  | { kind: "route"; route: RestRoute; pathValues: Map<string, string> }
  | { kind: "method_not_allowed"; allow: string[] }
  | { kind: "not_found" };

export class RouteTableError extends Error {}

export interface RouteTable {
  routes: readonly RestRoute[];
  /** The first path segments routes use (`api`): paths under them are ours to answer, 404 included. */
  prefixes: ReadonlySet<string>;
  match(verb: string, path: string): RouteMatch;
}

/** Resolves `a.b.c` to the field chain, each field found by its proto name. */
export function resolveFieldPath(message: DescMessage, fieldPath: string): DescField[] | undefined {
  const chain: DescField[] = [];
  let current: DescMessage | undefined = message;
  for (const name of fieldPath.split(".")) {
    if (current === undefined) return undefined;
    const field: DescField | undefined = current.fields.find((f) => f.name === name);
    if (field === undefined) return undefined;
    chain.push(field);
    current = field.fieldKind === "message" ? field.message : undefined;
  }
  return chain;
}

function verbAndPath(rule: HttpRule): { verb: HttpVerb; path: string } | undefined {
  const pattern = rule.pattern;
  switch (pattern.case) {
    case "get":
    case "put":
    case "post":
    case "delete":
    case "patch":
      return { verb: pattern.case.toUpperCase(), path: pattern.value };
    case "custom":
      return { verb: pattern.value.kind.toUpperCase(), path: pattern.value.path };
    default:
      return undefined;
  }
}

function compileBinding(service: DescService, method: DescMethod, rule: HttpRule, binding: number): RestRoute {
  const where = `${service.typeName}.${method.name}${binding > 0 ? ` (additional binding ${binding})` : ""}`;
  const vp = verbAndPath(rule);
  if (vp === undefined) throw new RouteTableError(`${where}: google.api.http rule without a pattern`);
  let template: PathTemplate;
  try {
    template = parseTemplate(vp.path);
  } catch (error) {
    throw new RouteTableError(`${where}: ${(error as Error).message}`);
  }
  const pathFields = template.variables.map((v) => {
    const fields = resolveFieldPath(method.input, v.fieldPath);
    const leaf = fields?.at(-1);
    if (fields === undefined || leaf === undefined) throw new RouteTableError(`${where}: path variable ${v.fieldPath} names no field of ${method.input.typeName}`);
    if (fields.slice(0, -1).some((f) => f.fieldKind !== "message") || leaf.fieldKind === "list" || leaf.fieldKind === "map" || leaf.fieldKind === "message") {
      throw new RouteTableError(`${where}: path variable ${v.fieldPath} must name a singular scalar or enum field`);
    }
    return { fieldPath: v.fieldPath, fields };
  });
  let body: RestRoute["body"];
  if (rule.body === "*") body = { kind: "all" };
  else if (rule.body !== "") {
    const field = method.input.fields.find((f) => f.name === rule.body);
    if (field === undefined) throw new RouteTableError(`${where}: body ${rule.body} names no field of ${method.input.typeName}`);
    body = { kind: "field", field };
  }
  let responseField: DescField | undefined;
  if (rule.responseBody !== "") {
    responseField = method.output.fields.find((f) => f.name === rule.responseBody);
    if (responseField === undefined) throw new RouteTableError(`${where}: response_body ${rule.responseBody} names no field of ${method.output.typeName}`);
  }
  if (method.methodKind !== "unary" && method.methodKind !== "server_streaming") {
    throw new RouteTableError(`${where}: only unary and server-streaming methods can be transcoded`);
  }
  return { service, method, verb: vp.verb, template, pathFields, body, responseField, binding };
}

/** The rule of a method and its additional bindings, as routes; none when the method has no annotation. */
export function routesOfMethod(service: DescService, method: DescMethod): RestRoute[] {
  if (!hasOption(method, http)) return [];
  const rule = getOption(method, http);
  const routes = [compileBinding(service, method, rule, 0)];
  rule.additionalBindings.forEach((extra, i) => {
    if (extra.additionalBindings.length > 0) throw new RouteTableError(`${service.typeName}.${method.name}: additional bindings cannot nest`);
    routes.push(compileBinding(service, method, extra, i + 1));
  });
  return routes;
}

export function compileRouteTable(services: readonly DescService[]): RouteTable {
  const routes = services.flatMap((service) => service.methods.flatMap((method) => routesOfMethod(service, method)));
  const seen = new Map<string, RestRoute>();
  for (const route of routes) {
    // Two routes that match exactly the same requests: the annotation is wrong, refuse to start.
    const key = `${route.verb} /${route.template.segments.map((s) => (s.kind === "literal" ? s.value : s.kind === "one" ? "*" : "**")).join("/")}:${route.template.verb ?? ""}`;
    const clash = seen.get(key);
    if (clash !== undefined) {
      throw new RouteTableError(`${route.verb} ${route.template.source} of ${route.method.parent.typeName}.${route.method.name} clashes with ${clash.method.parent.typeName}.${clash.method.name}`);
    }
    seen.set(key, route);
  }
  const ordered = [...routes].sort((a, b) => compareSpecificity(a.template, b.template));
  const prefixes = new Set(routes.map((r) => r.template.segments[0]).flatMap((s) => (s?.kind === "literal" ? [s.value] : [])));
  return {
    routes,
    prefixes,
    match(verb, path) {
      const allow = new Set<string>();
      for (const route of ordered) {
        const pathValues = matchTemplate(route.template, path);
        if (pathValues === undefined) continue;
        if (route.verb === verb) return { kind: "route", route, pathValues };
        allow.add(route.verb);
      }
      return allow.size > 0 ? { kind: "method_not_allowed", allow: [...allow].sort() } : { kind: "not_found" };
    },
  };
}
