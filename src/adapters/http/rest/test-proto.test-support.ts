/**
 * A small proto built in code, shaped like the examples of google/api/http.proto,
 * for transcoding cases our own API does not use (`{name=shelves/*}`, `**`,
 * verbs, response_body, nested path variables, every query field kind).
 */
import { create, createFileRegistry, setExtension, type DescService, type FileRegistry } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FieldDescriptorProtoSchema,
  FileDescriptorProtoSchema,
  file_google_protobuf_duration,
  file_google_protobuf_field_mask,
  file_google_protobuf_timestamp,
  file_google_protobuf_wrappers,
  MethodOptionsSchema,
  type FieldDescriptorProto,
} from "@bufbuild/protobuf/wkt";
import { http } from "../../../../gen/google/api/annotations_pb.js";
import { HttpRuleSchema, type HttpRule } from "../../../../gen/google/api/http_pb.js";

type FieldSpec = [name: string, number: number, type: Type, typeName?: string, repeated?: boolean];

function fields(specs: FieldSpec[]): FieldDescriptorProto[] {
  return specs.map(([name, number, type, typeName, repeated]) =>
    create(FieldDescriptorProtoSchema, {
    name,
    // protoc fills json_name; a descriptor built by hand must too.
    jsonName: name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()),
    number,
    type,
    label: repeated ? Label.REPEATED : Label.OPTIONAL,
    ...(typeName === undefined ? {} : { typeName }),
  }),
  );
}

function rule(init: Parameters<typeof create<typeof HttpRuleSchema>>[1]): HttpRule {
  return create(HttpRuleSchema, init);
}

function method(name: string, input: string, output: string, httpRule: HttpRule, serverStreaming = false) {
  const options = create(MethodOptionsSchema);
  setExtension(options, http, httpRule);
  return { name, inputType: `.test.v1.${input}`, outputType: `.test.v1.${output}`, options, serverStreaming };
}

export const testRules = {
  getMessage: rule({
    pattern: { case: "get", value: "/v1/messages/{message_id}" },
    additionalBindings: [rule({ pattern: { case: "get", value: "/v1/users/{sub.subfield}/messages/{message_id}" } })],
  }),
  listFailed: rule({ pattern: { case: "get", value: "/v1/messages/failed" } }),
  getBook: rule({ pattern: { case: "get", value: "/v1/{name=shelves/*/books/*}" }, responseBody: "message" }),
  getFile: rule({ pattern: { case: "get", value: "/v1/files/{name=**}" } }),
  updateMessage: rule({
    pattern: { case: "patch", value: "/v1/messages/{message_id}" },
    body: "message",
    additionalBindings: [rule({ pattern: { case: "put", value: "/v1/messages/{message_id}" }, body: "message" })],
  }),
  updateNested: rule({ pattern: { case: "put", value: "/v1/nested/{message.text}" }, body: "message" }),
  undelete: rule({ pattern: { case: "post", value: "/v1/messages/{message_id}:undelete" }, body: "*" }),
  watch: rule({ pattern: { case: "get", value: "/v1/watch" } }),
};

export function testRegistry(): FileRegistry {
  const file = create(FileDescriptorProtoSchema, {
    name: "test/v1/test.proto",
    package: "test.v1",
    syntax: "proto3",
    dependency: ["google/protobuf/timestamp.proto", "google/protobuf/duration.proto", "google/protobuf/field_mask.proto", "google/protobuf/wrappers.proto"],
    enumType: [{ name: "Kind", value: [{ name: "KIND_UNSPECIFIED", number: 0 }, { name: "KIND_A", number: 1 }, { name: "KIND_B", number: 2 }] }],
    messageType: [
      { name: "Sub", field: fields([["subfield", 1, Type.STRING], ["depth", 2, Type.INT32]]) },
      {
        name: "GetMessageRequest",
        field: fields([
          ["message_id", 1, Type.STRING],
          ["revision", 2, Type.INT64],
          ["sub", 3, Type.MESSAGE, ".test.v1.Sub"],
          ["tags", 4, Type.STRING, undefined, true],
          ["kind", 5, Type.ENUM, ".test.v1.Kind"],
          ["since", 6, Type.MESSAGE, ".google.protobuf.Timestamp"],
          ["wait", 7, Type.MESSAGE, ".google.protobuf.Duration"],
          ["mask", 8, Type.MESSAGE, ".google.protobuf.FieldMask"],
          ["flag", 9, Type.BOOL],
          ["kinds", 10, Type.ENUM, ".test.v1.Kind", true],
          ["name", 11, Type.STRING],
          ["limit", 12, Type.MESSAGE, ".google.protobuf.Int32Value"],
          ["ratio", 13, Type.DOUBLE],
          ["subs", 14, Type.MESSAGE, ".test.v1.Sub", true],
        ]),
      },
      { name: "Message", field: fields([["text", 1, Type.STRING], ["note", 2, Type.STRING]]) },
      {
        name: "UpdateMessageRequest",
        field: fields([
          ["message_id", 1, Type.STRING],
          ["message", 2, Type.MESSAGE, ".test.v1.Message"],
          ["update_mask", 3, Type.MESSAGE, ".google.protobuf.FieldMask"],
          ["reason", 4, Type.STRING],
        ]),
      },
      { name: "Response", field: fields([["message", 1, Type.MESSAGE, ".test.v1.Message"], ["total", 2, Type.INT64]]) },
    ],
    service: [
      {
        name: "TestService",
        method: [
          method("GetMessage", "GetMessageRequest", "Response", testRules.getMessage),
          method("ListFailed", "GetMessageRequest", "Response", testRules.listFailed),
          method("GetBook", "GetMessageRequest", "Response", testRules.getBook),
          method("GetFile", "GetMessageRequest", "Response", testRules.getFile),
          method("UpdateMessage", "UpdateMessageRequest", "Response", testRules.updateMessage),
          method("UpdateNested", "UpdateMessageRequest", "Response", testRules.updateNested),
          method("Undelete", "UpdateMessageRequest", "Response", testRules.undelete),
          method("Watch", "GetMessageRequest", "Response", testRules.watch, true),
        ],
      },
    ],
  });
  const deps = new Map(
    [file_google_protobuf_timestamp, file_google_protobuf_duration, file_google_protobuf_field_mask, file_google_protobuf_wrappers].map((f) => [f.name + ".proto", f]),
  );
  return createFileRegistry(file, (name) => deps.get(name));
}

export function testService(): DescService {
  return testRegistry().getService("test.v1.TestService")!;
}
