import { create, fromJson, mergeFromJson, ScalarType, type DescField, type DescMessage, type JsonValue, type Message, type Registry } from "@bufbuild/protobuf";
import type { RestRoute } from "./route-table.js";

/**
 * Builds the request message of a route from the HTTP request, as
 * grpc-gateway does: the body (JSON) first — the whole request for
 * `body: "*"`, one field for `body: "field"` — then the query string for the
 * fields neither the body nor the path set, then the path variables (which
 * win). Everything goes through protobuf-es' proto3 JSON reader, so names are
 * accepted as JSON (lowerCamelCase) or proto (snake_case) names, int64 as
 * strings or numbers, enums by name or number, exactly as the Connect
 * protocol reads them.
 *
 * Query parameters: `a=1` for a scalar, `a.b=1` for a field of a message
 * field, `x=1&x=2` for a repeated field, enums by name or number,
 * `google.protobuf.Timestamp` as RFC 3339, `Duration` as `1.5s`, `FieldMask`
 * as `a,b` (snake_case or lowerCamelCase paths), wrappers as their value.
 * Maps and repeated messages cannot be set from the query string. An unknown
 * parameter, or any parameter on a `body: "*"` route, is refused (a typo
 * should not silently do nothing).
 */

export interface FieldViolation {
  field: string;
  description: string;
}

/** Why a request could not be bound: an InvalidArgument with field violations. */
export class BindError extends Error {
  constructor(
    message: string,
    readonly violations: FieldViolation[],
  ) {
    super(message);
  }
}

export interface HttpInput {
  pathValues: ReadonlyMap<string, string>;
  query: URLSearchParams;
  /** The raw body text; empty when none was sent. */
  body: string;
}

const FIELD_MASK = "google.protobuf.FieldMask";
const STRING_WKT = new Set(["google.protobuf.Timestamp", "google.protobuf.Duration", FIELD_MASK]);
const WRAPPERS = new Set(
  ["Double", "Float", "Int64", "UInt64", "Int32", "UInt32", "Bool", "String", "Bytes"].map((t) => `google.protobuf.${t}Value`),
);

export function bindRequest(route: RestRoute, input: HttpInput, registry: Registry): Message {
  const schema = route.method.input;
  const read = { registry, ignoreUnknownFields: false } as const;
  let message: Message;
  let bodyJson: JsonValue | undefined;
  if (route.body !== undefined) {
    bodyJson = parseBody(input.body);
    try {
      if (route.body.kind === "all") message = fromJson(schema, bodyJson ?? {}, read);
      else {
        message = create(schema);
        if (bodyJson !== undefined) mergeFromJson(schema, message, { [route.body.field.name]: bodyJson }, read);
      }
    } catch (error) {
      throw new BindError(`invalid request body: ${jsonProblem(error)}`, [{ field: route.body.kind === "all" ? "" : route.body.field.name, description: jsonProblem(error) }]);
    }
  } else {
    message = create(schema);
  }

  // body "*": every field comes from the body. grpc-gateway ignores a query string then; we refuse
  // it, as any parameter that would do nothing.
  if (route.body?.kind === "all") {
    const name = input.query.keys().next().value;
    if (name !== undefined) throw new BindError(`query parameter ${name}: this route takes the whole request in the body`, [{ field: name, description: "set it in the request body" }]);
  } else {
    const fromQuery = queryToJson(route, input.query);
    if (route.verb === "PATCH" && route.body?.kind === "field") implicitUpdateMask(route, route.body.field, bodyJson, input.query, fromQuery);
    mergeOrExplain(schema, message, fromQuery, read, "query parameter");
  }

  const fromPath: Record<string, JsonValue> = {};
  for (const { fieldPath, fields } of route.pathFields) {
    const value = input.pathValues.get(fieldPath);
    if (value === undefined) continue;
    setPath(fromPath, fields, leafJson(fields.at(-1)!, [value], fieldPath));
  }
  mergeOrExplain(schema, message, fromPath, read, "path variable");
  return message;
}

function parseBody(text: string): JsonValue | undefined {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new BindError(`the request body is not JSON: ${(error as Error).message}`, [{ field: "", description: "not valid JSON" }]);
  }
}

function jsonProblem(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function mergeOrExplain(schema: DescMessage, message: Message, json: Record<string, JsonValue>, read: { registry: Registry; ignoreUnknownFields: false }, what: string): void {
  for (const [key, value] of Object.entries(json)) {
    try {
      mergeFromJson(schema, message, { [key]: value }, read);
    } catch (error) {
      throw new BindError(`invalid ${what} ${key}: ${jsonProblem(error)}`, [{ field: key, description: jsonProblem(error) }]);
    }
  }
}

/** Finds `a.b.c` in the request, each part by proto name or JSON name. */
function resolveParam(schema: DescMessage, name: string): DescField[] | undefined {
  const chain: DescField[] = [];
  let current: DescMessage | undefined = schema;
  for (const part of name.split(".")) {
    if (current === undefined || STRING_WKT.has(current.typeName) || WRAPPERS.has(current.typeName)) return undefined;
    const field: DescField | undefined = current.fields.find((f) => f.name === part || f.jsonName === part);
    if (field === undefined) return undefined;
    chain.push(field);
    current = field.fieldKind === "message" ? field.message : undefined;
  }
  return chain;
}

function queryToJson(route: RestRoute, query: URLSearchParams): Record<string, JsonValue> {
  const json: Record<string, JsonValue> = {};
  const pathBound = route.pathFields.map((p) => p.fields);
  for (const name of new Set(query.keys())) {
    const fields = resolveParam(route.method.input, name);
    if (fields === undefined) throw new BindError(`unknown query parameter ${name}`, [{ field: name, description: `${route.method.input.typeName} has no such field` }]);
    if (route.body?.kind === "field" && fields[0] === route.body.field) {
      throw new BindError(`query parameter ${name} is part of the body`, [{ field: name, description: "set it in the request body" }]);
    }
    if (pathBound.some((bound) => bound.every((f, i) => fields[i] === f) || fields.every((f, i) => bound[i] === f))) {
      throw new BindError(`query parameter ${name} is bound by the path`, [{ field: name, description: "set by the URL path" }]);
    }
    setPath(json, fields, leafJson(fields.at(-1)!, query.getAll(name), name));
  }
  return json;
}

function setPath(target: Record<string, JsonValue>, fields: DescField[], value: JsonValue): void {
  let node = target;
  for (const field of fields.slice(0, -1)) {
    const next = node[field.name];
    if (next === undefined || typeof next !== "object" || next === null || Array.isArray(next)) node[field.name] = {};
    node = node[field.name] as Record<string, JsonValue>;
  }
  node[fields.at(-1)!.name] = value;
}

/** The proto3 JSON value of one field given as strings (one, or several for a repeated field). */
function leafJson(field: DescField, values: string[], name: string): JsonValue {
  const refuse = (description: string): never => {
    throw new BindError(`invalid query parameter ${name}: ${description}`, [{ field: name, description }]);
  };
  if (field.fieldKind === "map") refuse("map fields cannot be set from the URL; use a method with a body");
  if (field.fieldKind === "list") {
    if (field.listKind === "message") refuse("repeated message fields cannot be set from the URL");
    return values.map((v) => (field.listKind === "enum" ? enumJson(v) : scalarJson(field.scalar!, v, refuse)));
  }
  if (values.length > 1) refuse("given more than once for a field that is not repeated");
  const value = values[0]!;
  switch (field.fieldKind) {
    case "scalar":
      return scalarJson(field.scalar, value, refuse);
    case "enum":
      return enumJson(value);
    case "message": {
      const type = field.message.typeName;
      if (type === FIELD_MASK) return fieldMaskJson(value);
      if (STRING_WKT.has(type)) return value;
      if (WRAPPERS.has(type)) return scalarJson(field.message.fields[0]!.scalar!, value, refuse);
      return refuse(`${type} is a message: name one of its fields (${name}.<field>)`);
    }
  }
  return refuse("unsupported field");
}

function enumJson(value: string): JsonValue {
  return /^-?\d+$/.test(value) ? Number(value) : value;
}

function scalarJson(type: ScalarType, value: string, refuse: (d: string) => never): JsonValue {
  switch (type) {
    case ScalarType.BOOL:
      if (value === "true" || value === "1") return true;
      if (value === "false" || value === "0") return false;
      return refuse(`expected true or false, got ${JSON.stringify(value)}`);
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      if (!/^-?\d+$/.test(value)) return refuse(`expected an integer, got ${JSON.stringify(value)}`);
      return Number(value);
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      if (value === "NaN" || value === "Infinity" || value === "-Infinity") return value;
      if (value.trim() === "" || !Number.isFinite(Number(value))) return refuse(`expected a number, got ${JSON.stringify(value)}`);
      return Number(value);
    default:
      // 64-bit integers are strings in proto3 JSON; strings and bytes (base64) as given.
      return value;
  }
}

/** `a_b,c` or `aB,c` → the lowerCamelCase form proto3 JSON requires. */
function fieldMaskJson(value: string): string {
  return value
    .split(",")
    .filter((p) => p !== "")
    .map((path) => path.split(".").map((part) => part.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())).join("."))
    .join(",");
}

/**
 * PATCH with a body field and no `update_mask` in the query: the mask is the
 * body's top-level fields, as grpc-gateway infers it — so a partial update
 * changes only what was sent.
 */
function implicitUpdateMask(route: RestRoute, bodyField: DescField, bodyJson: JsonValue | undefined, query: URLSearchParams, fromQuery: Record<string, JsonValue>): void {
  const mask = route.method.input.fields.find((f) => f.name === "update_mask" && f.fieldKind === "message" && f.message.typeName === FIELD_MASK);
  if (mask === undefined || query.has("update_mask") || query.has("updateMask")) return;
  if (bodyJson === undefined || typeof bodyJson !== "object" || bodyJson === null || Array.isArray(bodyJson) || bodyField.fieldKind !== "message") return;
  const paths = Object.keys(bodyJson).flatMap((key) => {
    const field = bodyField.message.fields.find((f) => f.name === key || f.jsonName === key);
    // The field the path names (`{account.id}`) is not an update.
    const pathBound = route.pathFields.some((p) => p.fields[0] === bodyField && p.fields[1] === field);
    return field === undefined || pathBound ? [] : [field.jsonName];
  });
  fromQuery[mask.name] = paths.join(",");
}
