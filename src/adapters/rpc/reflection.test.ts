import { execFile } from "node:child_process";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { create, createFileRegistry, equals, fromBinary, toBinary, type DescFile, type MessageInitShape } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FileDescriptorProtoSchema,
  file_google_protobuf_timestamp,
  type FileDescriptorProto,
} from "@bufbuild/protobuf/wkt";
import { Code, createClient, createRouterTransport, type ConnectRouter, type Transport } from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, file_grpc_health_v1_health } from "../../../gen/grpc/health/v1/health_pb.js";
import {
  ServerReflectionRequestSchema as RequestV1Schema,
  ServerReflectionResponseSchema as ResponseV1Schema,
  type ServerReflectionResponse,
} from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import {
  ServerReflectionRequestSchema as RequestV1alphaSchema,
  ServerReflectionResponseSchema as ResponseV1alphaSchema,
} from "../../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { createHealthService, HealthStatus } from "./health.js";
import { createReflectionServices, registerReflection, ServerReflectionV1, ServerReflectionV1alpha } from "./reflection.js";

// A test-local schema: base.proto (imports timestamp.proto, declares a service)
// and notes.proto, which only extends base.proto's message and is reachable
// from no service, so it is passed to reflection explicitly.
const optional = Label.OPTIONAL;
const baseFile = fileOf(
  create(FileDescriptorProtoSchema, {
    name: "test/v1/base.proto",
    package: "test.v1",
    syntax: "proto2",
    dependency: ["google/protobuf/timestamp.proto"],
    messageType: [
      {
        name: "Thing",
        field: [
          { name: "create_time", jsonName: "createTime", number: 1, label: optional, type: Type.MESSAGE, typeName: ".google.protobuf.Timestamp" },
          { name: "kind", jsonName: "kind", number: 2, label: optional, type: Type.ENUM, typeName: ".test.v1.Thing.Kind" },
          { name: "part", jsonName: "part", number: 3, label: optional, type: Type.MESSAGE, typeName: ".test.v1.Thing.Part" },
        ],
        nestedType: [{ name: "Part", field: [{ name: "name", jsonName: "name", number: 1, label: optional, type: Type.STRING }] }],
        enumType: [{ name: "Kind", value: [{ name: "KIND_UNSPECIFIED", number: 0 }, { name: "KIND_BIG", number: 1 }] }],
        extensionRange: [{ start: 100, end: 200 }],
      },
    ],
    enumType: [{ name: "Color", value: [{ name: "COLOR_UNSPECIFIED", number: 0 }, { name: "COLOR_RED", number: 1 }] }],
    service: [{ name: "ThingService", method: [{ name: "GetThing", inputType: ".test.v1.Thing", outputType: ".test.v1.Thing" }] }],
  }),
  [file_google_protobuf_timestamp],
);
const notesFile = fileOf(
  create(FileDescriptorProtoSchema, {
    name: "test/v1/notes.proto",
    package: "test.v1",
    syntax: "proto2",
    dependency: ["test/v1/base.proto"],
    extension: [{ name: "note", jsonName: "note", number: 100, label: optional, type: Type.STRING, extendee: ".test.v1.Thing" }],
  }),
  [baseFile],
);
const thingService = baseFile.services[0]!;

function fileOf(proto: FileDescriptorProto, deps: DescFile[]): DescFile {
  const file = createFileRegistry(proto, (name) => deps.find((d) => d.proto.name === name)).getFile(proto.name);
  if (!file) throw new Error(`cannot build ${proto.name}`);
  return file;
}

function routes(router: ConnectRouter): void {
  router.service(Health, createHealthService(new HealthStatus()));
  router.service(thingService, {});
  registerReflection(router, { files: [notesFile] });
}

type Request = MessageInitShape<typeof RequestV1Schema>;

/** Sends the requests on one reflection stream and collects the responses (v1alpha re-encoded from/to v1). */
async function exchange(transport: Transport, requests: Request[], version: "v1" | "v1alpha" = "v1"): Promise<ServerReflectionResponse[]> {
  const v1Requests = requests.map((r) => create(RequestV1Schema, r));
  const responses: ServerReflectionResponse[] = [];
  if (version === "v1") {
    for await (const r of createClient(ServerReflectionV1, transport).serverReflectionInfo(stream(v1Requests))) responses.push(r);
  } else {
    const v1alphaRequests = v1Requests.map((r) => fromBinary(RequestV1alphaSchema, toBinary(RequestV1Schema, r)));
    for await (const r of createClient(ServerReflectionV1alpha, transport).serverReflectionInfo(stream(v1alphaRequests))) {
      responses.push(fromBinary(ResponseV1Schema, toBinary(ResponseV1alphaSchema, r)));
    }
  }
  return responses;
}

async function* stream<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

function fileNames(response: ServerReflectionResponse | undefined): string[] {
  if (response?.messageResponse.case !== "fileDescriptorResponse") throw new Error(`not a file response: ${response?.messageResponse.case}`);
  return response.messageResponse.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name);
}

function errorCode(response: ServerReflectionResponse | undefined): number | undefined {
  return response?.messageResponse.case === "errorResponse" ? response.messageResponse.value.errorCode : undefined;
}

const allServices = [
  "grpc.health.v1.Health",
  "test.v1.ThingService",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
];

describe("reflection (in memory)", () => {
  const transport = createRouterTransport(routes);

  it.each(["v1", "v1alpha"] as const)("when %s lists services, then it returns every registered service, reflection included", async (version) => {
    const [response] = await exchange(transport, [{ messageRequest: { case: "listServices", value: "" } }], version);
    expect(response?.messageResponse.case).toBe("listServicesResponse");
    const names = response?.messageResponse.case === "listServicesResponse" ? response.messageResponse.value.service.map((s) => s.name) : [];
    expect(names).toEqual(allServices);
  });

  it.each([
    ["a service", "test.v1.ThingService", "test/v1/base.proto"],
    ["a method", "test.v1.ThingService.GetThing", "test/v1/base.proto"],
    ["a message", "test.v1.Thing", "test/v1/base.proto"],
    ["a nested message", "test.v1.Thing.Part", "test/v1/base.proto"],
    ["a nested enum", "test.v1.Thing.Kind", "test/v1/base.proto"],
    ["a field", "test.v1.Thing.create_time", "test/v1/base.proto"],
    ["an enum value", "test.v1.COLOR_RED", "test/v1/base.proto"],
    ["a nested enum value", "test.v1.Thing.KIND_BIG", "test/v1/base.proto"],
    ["an extension", "test.v1.note", "test/v1/notes.proto"],
    ["a dependency's message", "google.protobuf.Timestamp", "google/protobuf/timestamp.proto"],
    ["the health service", "grpc.health.v1.Health", "grpc/health/v1/health.proto"],
    ["the reflection service", "grpc.reflection.v1alpha.ServerReflection", "grpc/reflection/v1alpha/reflection.proto"],
  ])("when asked for the file containing %s, then it returns that file first", async (_what, symbol, file) => {
    const [response] = await exchange(transport, [{ messageRequest: { case: "fileContainingSymbol", value: symbol } }]);
    expect(fileNames(response)[0]).toBe(file);
  });

  it("when files are asked for on one stream, then each comes with its dependencies, each sent at most once", async () => {
    const byName = (value: string): Request => ({ messageRequest: { case: "fileByFilename", value } });
    const responses = await exchange(transport, [
      byName("test/v1/notes.proto"),
      byName("test/v1/base.proto"),
      byName("google/protobuf/timestamp.proto"),
    ]);
    expect(responses.map(fileNames)).toEqual([
      ["test/v1/notes.proto", "test/v1/base.proto", "google/protobuf/timestamp.proto"],
      ["test/v1/base.proto"],
      ["google/protobuf/timestamp.proto"],
    ]);
    const [again] = await exchange(transport, [byName("test/v1/base.proto")]);
    expect(fileNames(again)).toEqual(["test/v1/base.proto", "google/protobuf/timestamp.proto"]);
  });

  it("when a file is returned, then it is the file's own FileDescriptorProto", async () => {
    const [response] = await exchange(transport, [{ messageRequest: { case: "fileContainingSymbol", value: "grpc.health.v1.Health" } }]);
    const bytes = response?.messageResponse.case === "fileDescriptorResponse" ? response.messageResponse.value.fileDescriptorProto[0] : undefined;
    expect(bytes && equals(FileDescriptorProtoSchema, fromBinary(FileDescriptorProtoSchema, bytes), file_grpc_health_v1_health.proto)).toBe(true);
  });

  it("when asked for extensions of a message, then it finds their file and numbers", async () => {
    const responses = await exchange(transport, [
      { messageRequest: { case: "fileContainingExtension", value: { containingType: "test.v1.Thing", extensionNumber: 100 } } },
      { messageRequest: { case: "allExtensionNumbersOfType", value: "test.v1.Thing" } },
      { messageRequest: { case: "allExtensionNumbersOfType", value: "grpc.health.v1.HealthCheckRequest" } },
    ]);
    expect(fileNames(responses[0])).toEqual(["test/v1/notes.proto", "test/v1/base.proto", "google/protobuf/timestamp.proto"]);
    expect(responses[1]?.messageResponse).toMatchObject({
      case: "allExtensionNumbersResponse",
      value: { baseTypeName: "test.v1.Thing", extensionNumber: [100] },
    });
    expect(responses[2]?.messageResponse).toMatchObject({ case: "allExtensionNumbersResponse", value: { extensionNumber: [] } });
  });

  it("when something unknown is asked for, then each answer is a NOT_FOUND error and the stream goes on", async () => {
    const responses = await exchange(transport, [
      { host: "h", messageRequest: { case: "fileByFilename", value: "nope.proto" } },
      { messageRequest: { case: "fileContainingSymbol", value: "test.v1.Thing.nope" } },
      { messageRequest: { case: "fileContainingSymbol", value: "nope" } },
      { messageRequest: { case: "fileContainingExtension", value: { containingType: "test.v1.Thing", extensionNumber: 101 } } },
      { messageRequest: { case: "fileContainingExtension", value: { containingType: "nope.Nope", extensionNumber: 100 } } },
      { messageRequest: { case: "allExtensionNumbersOfType", value: "nope.Nope" } },
      { messageRequest: { case: "listServices", value: "" } },
    ]);
    expect(responses.map(errorCode)).toEqual([...Array<number>(6).fill(Code.NotFound), undefined]);
    expect(responses[0]?.validHost).toBe("h");
    expect(responses[0]?.originalRequest?.messageRequest).toEqual({ case: "fileByFilename", value: "nope.proto" });
  });

  it("when a request sets no message_request, then the stream fails with INVALID_ARGUMENT", async () => {
    await expect(exchange(transport, [{ host: "h" }])).rejects.toMatchObject({ code: Code.InvalidArgument });
  });

  it("when built from explicit files and names, then it lists those names and both reflection services", async () => {
    const { v1, v1alpha } = createReflectionServices([baseFile], ["test.v1.ThingService"]);
    const explicit = createRouterTransport((router) => router.service(ServerReflectionV1, v1).service(ServerReflectionV1alpha, v1alpha));
    const responses = await exchange(
      explicit,
      [
        { messageRequest: { case: "listServices", value: "" } },
        { messageRequest: { case: "fileContainingSymbol", value: "test.v1.Thing" } },
      ],
      "v1alpha",
    );
    expect(responses[0]?.messageResponse.value).toMatchObject({
      service: [{ name: "test.v1.ThingService" }, { name: "grpc.reflection.v1.ServerReflection" }, { name: "grpc.reflection.v1alpha.ServerReflection" }],
    });
    expect(fileNames(responses[1])).toEqual(["test/v1/base.proto", "google/protobuf/timestamp.proto"]);
  });
});

describe("reflection (gRPC over HTTP/2, buf curl)", () => {
  const buf = fileURLToPath(new URL("../../../node_modules/.bin/buf", import.meta.url));
  const run = promisify(execFile);
  let server: http2.Http2Server;
  let sessions: Http2SessionManager;
  let baseUrl: string;

  beforeAll(async () => {
    server = http2.createServer(connectNodeAdapter({ routes }));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    sessions = new Http2SessionManager(baseUrl);
  });

  afterAll(async () => {
    sessions.abort();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const curl = async (...args: string[]): Promise<string> =>
    (await run(buf, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args], { timeout: 20_000 })).stdout;

  it("when a gRPC client lists services over HTTP/2, then reflection answers", async () => {
    const transport = createGrpcTransport({ baseUrl, sessionManager: sessions });
    const [response] = await exchange(transport, [{ messageRequest: { case: "listServices", value: "" } }]);
    expect(response?.messageResponse.value).toMatchObject({ service: allServices.map((name) => ({ name })) });
  });

  it.each(["grpc-v1", "grpc-v1alpha"])("when buf curl lists methods over %s reflection, then it sees every method", async (reflectProtocol) => {
    const methods = (await curl("--reflect-protocol", reflectProtocol, "--list-methods", baseUrl)).trim().split("\n");
    expect(methods).toEqual(
      expect.arrayContaining([
        "grpc.health.v1.Health/Check",
        "grpc.health.v1.Health/List",
        "grpc.health.v1.Health/Watch",
        "test.v1.ThingService/GetThing",
      ]),
    );
  });

  it("when buf curl calls Health/Check with no schema, then the server answers SERVING", async () => {
    const out = await curl("-d", "{}", `${baseUrl}/grpc.health.v1.Health/Check`);
    expect(JSON.parse(out)).toEqual({ status: "SERVING" });
  });
});
