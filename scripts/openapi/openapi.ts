/**
 * OpenAPI 3.1 for the REST routes, built from the same descriptors and the
 * same route compiler the service uses (src/adapters/http/rest/route-table.ts),
 * so the document cannot describe a route the service does not serve.
 * Descriptions come from the proto comments (the descriptor set built by
 * `buf build` keeps source info). Schemas describe proto3 JSON as the
 * service writes it: lowerCamelCase names, 64-bit integers as strings, enums
 * by name, Timestamp as RFC 3339, Duration as "1.5s".
 */
import { getOption, hasOption, ScalarType, type DescEnum, type DescField, type DescMessage, type DescService } from "@bufbuild/protobuf";
import { leadingComment } from "./comments.js";
import { field_behavior, FieldBehavior } from "../../gen/google/api/field_behavior_pb.js";
import { routesOfMethod, type RestRoute } from "../../src/adapters/http/rest/route-table.js";
import { HTTP_STATUS_OF_CODE } from "../../src/adapters/http/rest/status.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = { [key: string]: Json };

export interface OpenApiInput {
  services: readonly DescService[];
  title: string;
  version: string;
  description: string;
}

/** `{account.id}` → `account_id`: path parameter names the same in OpenAPI paths and in KrakenD endpoints. */
export function parameterName(fieldPath: string): string {
  return fieldPath.replaceAll(".", "_");
}

/** The route's path with each variable written `{name}` (a `{name=a/*}` segment group is one parameter). */
export function openApiPath(route: RestRoute): string {
  const { template } = route;
  const parts: string[] = [];
  for (let i = 0; i < template.segments.length; ) {
    const variable = template.variables.find((v) => v.start === i);
    if (variable !== undefined) {
      parts.push(`{${parameterName(variable.fieldPath)}}`);
      i = variable.end === Infinity ? template.segments.length : variable.end;
      continue;
    }
    const segment = template.segments[i]!;
    parts.push(segment.kind === "literal" ? segment.value : segment.kind === "one" ? "*" : "**");
    i++;
  }
  return `/${parts.join("/")}${template.verb === undefined ? "" : `:${template.verb}`}`;
}

const SCALAR_SCHEMA: Record<ScalarType, Schema> = {
  [ScalarType.DOUBLE]: { type: "number", format: "double" },
  [ScalarType.FLOAT]: { type: "number", format: "float" },
  [ScalarType.INT64]: { type: "string", format: "int64", pattern: "^-?[0-9]+$" },
  [ScalarType.UINT64]: { type: "string", format: "uint64", pattern: "^[0-9]+$" },
  [ScalarType.INT32]: { type: "integer", format: "int32" },
  [ScalarType.FIXED64]: { type: "string", format: "uint64", pattern: "^[0-9]+$" },
  [ScalarType.FIXED32]: { type: "integer", format: "int64", minimum: 0, maximum: 4294967295 },
  [ScalarType.BOOL]: { type: "boolean" },
  [ScalarType.STRING]: { type: "string" },
  [ScalarType.BYTES]: { type: "string", contentEncoding: "base64" },
  [ScalarType.UINT32]: { type: "integer", format: "int64", minimum: 0, maximum: 4294967295 },
  [ScalarType.SFIXED32]: { type: "integer", format: "int32" },
  [ScalarType.SFIXED64]: { type: "string", format: "int64", pattern: "^-?[0-9]+$" },
  [ScalarType.SINT32]: { type: "integer", format: "int32" },
  [ScalarType.SINT64]: { type: "string", format: "int64", pattern: "^-?[0-9]+$" },
};

const WKT_SCHEMA: Record<string, Schema> = {
  "google.protobuf.Timestamp": { type: "string", format: "date-time", description: "RFC 3339, e.g. 2026-01-02T15:04:05Z" },
  "google.protobuf.Duration": { type: "string", pattern: "^-?[0-9]+(\\.[0-9]{1,9})?s$", description: "seconds with an `s` suffix, e.g. 1.5s" },
  "google.protobuf.FieldMask": { type: "string", description: "comma-separated field paths, e.g. displayName,rateLimitPerSecond" },
  "google.protobuf.Struct": { type: "object", additionalProperties: true },
  "google.protobuf.Value": {},
  "google.protobuf.ListValue": { type: "array", items: {} },
  "google.protobuf.Empty": { type: "object" },
  "google.protobuf.Any": { type: "object", properties: { "@type": { type: "string" } }, additionalProperties: true },
  "google.protobuf.DoubleValue": { type: ["number", "null"] },
  "google.protobuf.FloatValue": { type: ["number", "null"] },
  "google.protobuf.Int64Value": { type: ["string", "null"], format: "int64" },
  "google.protobuf.UInt64Value": { type: ["string", "null"], format: "uint64" },
  "google.protobuf.Int32Value": { type: ["integer", "null"], format: "int32" },
  "google.protobuf.UInt32Value": { type: ["integer", "null"], minimum: 0 },
  "google.protobuf.BoolValue": { type: ["boolean", "null"] },
  "google.protobuf.StringValue": { type: ["string", "null"] },
  "google.protobuf.BytesValue": { type: ["string", "null"], contentEncoding: "base64" },
};

const STATUS_SCHEMA: Schema = {
  type: "object",
  description:
    "The error of every REST route: a google.rpc.Status in proto3 JSON. `code` is the gRPC code number (3 INVALID_ARGUMENT, 5 NOT_FOUND, 7 PERMISSION_DENIED, 16 UNAUTHENTICATED…); the HTTP status follows grpc-gateway's mapping. `details` holds google.rpc.ErrorInfo (reason, domain), google.rpc.BadRequest (field violations), google.rpc.RetryInfo and buf.validate.Violations.",
  required: ["code", "message"],
  properties: {
    code: { type: "integer", format: "int32", description: "gRPC status code" },
    message: { type: "string" },
    details: { type: "array", items: { $ref: "#/components/schemas/google.protobuf.Any" } },
  },
};

class SchemaBuilder {
  readonly schemas: Record<string, Schema> = {};

  ref(desc: DescMessage | DescEnum): Schema {
    if (desc.kind === "message" && WKT_SCHEMA[desc.typeName] !== undefined) {
      this.schemas[desc.typeName] ??= WKT_SCHEMA[desc.typeName]!;
      return { $ref: `#/components/schemas/${desc.typeName}` };
    }
    if (this.schemas[desc.typeName] === undefined) {
      this.schemas[desc.typeName] = {}; // placeholder: recursive types refer to themselves
      this.schemas[desc.typeName] = desc.kind === "enum" ? this.enumSchema(desc) : this.messageSchema(desc);
    }
    return { $ref: `#/components/schemas/${desc.typeName}` };
  }

  enumSchema(desc: DescEnum): Schema {
    const description = leadingComment(desc);
    const values = desc.values.map((v) => `- \`${v.name}\`${leadingComment(v) ? `: ${leadingComment(v)!.replaceAll("\n", " ")}` : ""}`);
    return {
      type: "string",
      enum: desc.values.map((v) => v.name),
      description: [description, values.join("\n")].filter((s) => s !== undefined && s !== "").join("\n\n"),
    };
  }

  messageSchema(desc: DescMessage, omit: ReadonlySet<DescField> = new Set()): Schema {
    const properties: Record<string, Json> = {};
    const required: string[] = [];
    for (const field of desc.fields) {
      if (omit.has(field)) continue;
      const schema: Schema = { ...this.fieldSchema(field) };
      const description = leadingComment(field);
      const behaviors = hasOption(field, field_behavior) ? getOption(field, field_behavior) : [];
      if (behaviors.includes(FieldBehavior.OUTPUT_ONLY)) schema.readOnly = true;
      if (behaviors.includes(FieldBehavior.INPUT_ONLY)) schema.writeOnly = true;
      if (behaviors.includes(FieldBehavior.REQUIRED)) required.push(field.jsonName);
      const oneof = field.oneof !== undefined && !field.oneof.proto.name.startsWith("_") ? `One of \`${field.oneof.name}\`.` : undefined;
      const joined = [description, oneof].filter((s) => s !== undefined).join("\n\n");
      // A $ref with siblings is fine in 3.1 (JSON Schema 2020-12).
      properties[field.jsonName] = joined === "" ? schema : { ...schema, description: joined };
    }
    const schema: Schema = { type: "object", properties };
    const description = leadingComment(desc);
    if (description !== undefined) schema.description = description;
    if (required.length > 0) schema.required = required;
    return schema;
  }

  fieldSchema(field: DescField): Schema {
    switch (field.fieldKind) {
      case "scalar":
        return SCALAR_SCHEMA[field.scalar];
      case "enum":
        return this.ref(field.enum);
      case "message":
        return this.ref(field.message);
      case "list":
        return {
          type: "array",
          items: field.listKind === "scalar" ? SCALAR_SCHEMA[field.scalar] : field.listKind === "enum" ? this.ref(field.enum) : this.ref(field.message),
        };
      case "map":
        return {
          type: "object",
          additionalProperties: field.mapKind === "scalar" ? SCALAR_SCHEMA[field.scalar] : field.mapKind === "enum" ? this.ref(field.enum) : this.ref(field.message),
        };
    }
  }
}

/** The query parameters of a route without `body: "*"`: every leaf field not set by the path or the body, `a.b` for nested ones. */
function queryParameters(route: RestRoute, builder: SchemaBuilder): Schema[] {
  const params: Schema[] = [];
  const pathBound = new Set(route.pathFields.map((p) => p.fieldPath));
  const walk = (message: DescMessage, prefix: string, seen: ReadonlySet<string>) => {
    for (const field of message.fields) {
      const name = `${prefix}${field.name}`;
      if (pathBound.has(name)) continue;
      if (prefix === "" && route.body?.kind === "field" && route.body.field === field) continue;
      const description = leadingComment(field);
      const param = (schema: Schema, explode = false): Schema => ({
        name,
        in: "query",
        required: false,
        schema,
        ...(explode ? { style: "form", explode: true } : {}),
        ...(description === undefined ? {} : { description }),
      });
      if (field.fieldKind === "message") {
        if (WKT_SCHEMA[field.message.typeName] !== undefined && WKT_SCHEMA[field.message.typeName]!.type !== "object") params.push(param(builder.ref(field.message)));
        else if (!seen.has(field.message.typeName) && !WKT_SCHEMA[field.message.typeName]) walk(field.message, `${name}.`, new Set([...seen, field.message.typeName]));
      } else if (field.fieldKind === "list" && field.listKind !== "message") {
        params.push(param(builder.fieldSchema(field), true));
      } else if (field.fieldKind === "scalar" || field.fieldKind === "enum") {
        params.push(param(builder.fieldSchema(field)));
      }
    }
  };
  if (route.body?.kind !== "all") walk(route.method.input, "", new Set([route.method.input.typeName]));
  return params;
}

const ERROR_STATUSES = [...new Set(Object.values(HTTP_STATUS_OF_CODE))].sort();

export function buildOpenApi(input: OpenApiInput): Record<string, Json> {
  const builder = new SchemaBuilder();
  builder.schemas["google.rpc.Status"] = STATUS_SCHEMA;
  builder.schemas["google.protobuf.Any"] = WKT_SCHEMA["google.protobuf.Any"]!;
  const paths: Record<string, Record<string, Json>> = {};
  const tags: Json[] = [];
  for (const service of input.services) {
    const routes = service.methods.flatMap((m) => routesOfMethod(service, m));
    if (routes.length === 0) continue;
    const serviceDescription = leadingComment(service);
    tags.push({ name: service.name, ...(serviceDescription === undefined ? {} : { description: serviceDescription }) });
    for (const route of routes) {
      const path = openApiPath(route);
      const item = (paths[path] ??= {});
      const verb = route.verb.toLowerCase();
      if (item[verb] !== undefined) throw new Error(`${route.verb} ${path} is served by two methods`);
      const description = leadingComment(route.method);
      const parameters: Json[] = route.pathFields.map(({ fieldPath, fields }) => ({
        name: parameterName(fieldPath),
        in: "path",
        required: true,
        schema: builder.fieldSchema(fields.at(-1)!),
        description: `Sets \`${fieldPath}\` of the request.${leadingComment(fields.at(-1)!) ? ` ${leadingComment(fields.at(-1)!)}` : ""}`,
      }));
      parameters.push(...queryParameters(route, builder));
      const streaming = route.method.methodKind === "server_streaming";
      if (streaming) {
        parameters.push({
          name: "Last-Event-ID",
          in: "header",
          required: false,
          schema: { type: "string" },
          description: "Resume after this event id (what an EventSource sends when it reconnects); wins over after_event_id.",
        });
      }
      const responseSchema = route.responseField === undefined ? builder.ref(route.method.output) : builder.fieldSchema(route.responseField);
      const operation: Record<string, Json> = {
        operationId: `${service.name}_${route.method.name}${route.binding > 0 ? `_${route.binding + 1}` : ""}`,
        tags: [service.name],
        summary: description?.split("\n")[0] ?? route.method.name,
        description: [description, `RPC: \`${service.typeName}/${route.method.name}\`.`].filter((s) => s !== undefined).join("\n\n"),
        parameters,
        responses: {
          "200": streaming
            ? {
                description:
                  "Server-Sent Events: one `data:` line per message (proto3 JSON of the schema below) with `id:` = the event id; `: keep-alive` comments; a failure after the stream opened is one `event: error` whose data is a google.rpc.Status.",
                content: { "text/event-stream": { schema: { type: "string" }, "x-sse-data": responseSchema } },
              }
            : { description: "OK", content: { "application/json": { schema: responseSchema } } },
          ...Object.fromEntries(ERROR_STATUSES.map((s) => [String(s), { $ref: "#/components/responses/Error" }])),
        },
      };
      if (route.body !== undefined) {
        const schema = route.body.kind === "all" ? builder.ref(route.method.input) : builder.fieldSchema(route.body.field);
        operation.requestBody = { required: true, content: { "application/json": { schema } } };
      }
      item[verb] = operation;
    }
  }
  const sortedSchemas = Object.fromEntries(Object.entries(builder.schemas).sort(([a], [b]) => a.localeCompare(b)));
  return {
    openapi: "3.1.0",
    info: { title: input.title, version: input.version, description: input.description },
    tags,
    security: [{ bearer: [] }],
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "A JWT with the claims tenant_id and permissions (whatsapp:admin, whatsapp:send, whatsapp:read, whatsapp:verify)." },
      },
      responses: {
        Error: { description: "An error: google.rpc.Status JSON", content: { "application/json": { schema: { $ref: "#/components/schemas/google.rpc.Status" } } } },
      },
      schemas: sortedSchemas,
    },
  };
}
