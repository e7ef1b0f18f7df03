// gRPC server reflection (grpc.reflection.v1 and v1alpha) for connect-node,
// over a @bufbuild/protobuf registry, so that `buf curl` and grpcurl can list
// and call methods without a schema. Behaviour follows grpc-go's reflection
// server: files come with their transitive dependencies, each sent at most
// once per stream.
import {
  create,
  createRegistry,
  fromBinary,
  toBinary,
  type DescFile,
  type DescMessage,
  type MessageShape,
  type Registry,
} from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ConnectRouter, type ServiceImpl } from "@connectrpc/connect";
import {
  ErrorResponseSchema as ErrorResponseV1Schema,
  ExtensionNumberResponseSchema as ExtensionNumberResponseV1Schema,
  FileDescriptorResponseSchema as FileDescriptorResponseV1Schema,
  ListServiceResponseSchema as ListServiceResponseV1Schema,
  ServerReflection as ServerReflectionV1,
  ServerReflectionRequestSchema as RequestV1Schema,
  ServerReflectionResponseSchema as ResponseV1Schema,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import {
  ServerReflection as ServerReflectionV1alpha,
  ServerReflectionRequestSchema as RequestV1alphaSchema,
  ServerReflectionResponseSchema as ResponseV1alphaSchema,
} from "../../../gen/grpc/reflection/v1alpha/reflection_pb.js";

export { ServerReflectionV1, ServerReflectionV1alpha };

export interface ReflectionServices {
  readonly v1: ServiceImpl<typeof ServerReflectionV1>;
  readonly v1alpha: ServiceImpl<typeof ServerReflectionV1alpha>;
}

/** What reflection describes: the files (dependencies are followed) and the services to list. */
interface ReflectionIndex {
  readonly serviceNames: readonly string[];
  readonly files: ReadonlyMap<string, DescFile>;
  readonly registry: Registry;
}

const reflectionServices = [ServerReflectionV1, ServerReflectionV1alpha];

/**
 * Reflection over `files` (and their transitive dependencies), listing
 * `serviceNames`; both reflection services are always listed and described.
 * Register with `router.service(ServerReflectionV1, v1).service(ServerReflectionV1alpha, v1alpha)`.
 */
export function createReflectionServices(files: Iterable<DescFile>, serviceNames: Iterable<string>): ReflectionServices {
  const index = buildIndex([...files, ...reflectionServices.map((s) => s.file)], [
    ...serviceNames,
    ...reflectionServices.map((s) => s.typeName),
  ]);
  return adaptVersions(() => index);
}

/**
 * Registers both reflection services on `router`. They describe every service
 * registered on the router, whenever registered, plus `options.files` (e.g.
 * files that only declare extensions).
 */
export function registerReflection(router: ConnectRouter, options: { files?: Iterable<DescFile> } = {}): ConnectRouter {
  const extraFiles = [...(options.files ?? [])];
  const { v1, v1alpha } = adaptVersions(() => {
    const services = router.handlers.map((h) => h.service);
    return buildIndex([...services.map((s) => s.file), ...extraFiles], services.map((s) => s.typeName));
  });
  return router.service(ServerReflectionV1, v1).service(ServerReflectionV1alpha, v1alpha);
}

/** One implementation (v1); v1alpha has the identical wire shape, so it is re-encoded to and from v1. */
function adaptVersions(index: () => ReflectionIndex): ReflectionServices {
  async function* info(requests: AsyncIterable<ServerReflectionRequest>): AsyncGenerator<ServerReflectionResponse> {
    const stream = index();
    const sent = new Set<string>();
    for await (const request of requests) yield respond(stream, request, sent);
  }
  return {
    v1: { serverReflectionInfo: info },
    v1alpha: {
      async *serverReflectionInfo(requests) {
        const v1Requests = mapAsync(requests, (r) => convert(RequestV1alphaSchema, RequestV1Schema, r));
        for await (const response of info(v1Requests)) yield convert(ResponseV1Schema, ResponseV1alphaSchema, response);
      },
    },
  };
}

function respond(index: ReflectionIndex, request: ServerReflectionRequest, sent: Set<string>): ServerReflectionResponse {
  const reply = (messageResponse: ServerReflectionResponse["messageResponse"]): ServerReflectionResponse =>
    create(ResponseV1Schema, { validHost: request.host, originalRequest: request, messageResponse });
  const notFound = (message: string): ServerReflectionResponse =>
    reply({ case: "errorResponse", value: create(ErrorResponseV1Schema, { errorCode: Code.NotFound, errorMessage: message }) });
  const files = (file: DescFile | undefined, what: string): ServerReflectionResponse =>
    file
      ? reply({
          case: "fileDescriptorResponse",
          value: create(FileDescriptorResponseV1Schema, { fileDescriptorProto: withDependencies(file, sent) }),
        })
      : notFound(`${what} not found`);

  const { registry } = index;
  const req = request.messageRequest;
  switch (req.case) {
    case "listServices":
      return reply({
        case: "listServicesResponse",
        value: create(ListServiceResponseV1Schema, { service: index.serviceNames.map((name) => ({ name })) }),
      });
    case "fileByFilename":
      return files(index.files.get(req.value), `file ${req.value}`);
    case "fileContainingSymbol":
      return files(fileContainingSymbol(registry, req.value), `symbol ${req.value}`);
    case "fileContainingExtension": {
      const { containingType, extensionNumber } = req.value;
      const extendee = registry.getMessage(containingType);
      const extension = extendee && registry.getExtensionFor(extendee, extensionNumber);
      return files(extension?.file, `extension ${extensionNumber} of ${containingType}`);
    }
    case "allExtensionNumbersOfType": {
      if (!registry.getMessage(req.value)) return notFound(`type ${req.value} not found`);
      const numbers: number[] = [];
      for (const desc of registry) if (desc.kind === "extension" && desc.extendee.typeName === req.value) numbers.push(desc.number);
      return reply({
        case: "allExtensionNumbersResponse",
        value: create(ExtensionNumberResponseV1Schema, { baseTypeName: req.value, extensionNumber: numbers }),
      });
    }
    case undefined:
      throw new ConnectError("invalid message_request: none set", Code.InvalidArgument);
  }
}

/** The file and its transitive dependencies; dependencies already sent on this stream are left out. */
function withDependencies(file: DescFile, sent: Set<string>): Uint8Array[] {
  const out: Uint8Array[] = [];
  const seen = new Set<string>();
  const queue = [file];
  for (let next = queue.shift(); next; next = queue.shift()) {
    const name = next.proto.name;
    if (seen.has(name)) continue;
    seen.add(name);
    if (next === file || !sent.has(name)) out.push(toBinary(FileDescriptorProtoSchema, next.proto));
    sent.add(name);
    queue.push(...next.dependencies);
  }
  return out;
}

/** Types, services, extensions; and members: methods, fields, oneofs, enum values (scoped beside their enum). */
function fileContainingSymbol(registry: Registry, symbol: string): DescFile | undefined {
  const type = registry.get(symbol);
  if (type) return type.file;
  const dot = symbol.lastIndexOf(".");
  const scope = dot < 0 ? "" : symbol.slice(0, dot);
  const member = symbol.slice(dot + 1);
  const parent = registry.get(scope);
  if (parent?.kind === "service" && parent.methods.some((m) => m.name === member)) return parent.file;
  if (parent?.kind === "message" && [...parent.fields, ...parent.oneofs].some((f) => f.name === member)) return parent.file;
  for (const desc of registry) {
    if (desc.kind !== "enum" || scopeOf(desc.typeName) !== scope) continue;
    if (desc.values.some((v) => v.name === member)) return desc.file;
  }
  return undefined;
}

function scopeOf(typeName: string): string {
  const dot = typeName.lastIndexOf(".");
  return dot < 0 ? "" : typeName.slice(0, dot);
}

function buildIndex(roots: Iterable<DescFile>, serviceNames: Iterable<string>): ReflectionIndex {
  const files = new Map<string, DescFile>();
  const queue = [...roots];
  for (let next = queue.shift(); next; next = queue.shift()) {
    if (files.has(next.proto.name)) continue;
    files.set(next.proto.name, next);
    queue.push(...next.dependencies);
  }
  return { serviceNames: [...new Set(serviceNames)], files, registry: createRegistry(...files.values()) };
}

function convert<A extends DescMessage, B extends DescMessage>(from: A, to: B, message: MessageShape<A>): MessageShape<B> {
  return fromBinary(to, toBinary(from, message));
}

async function* mapAsync<T, U>(source: AsyncIterable<T>, f: (t: T) => U): AsyncGenerator<U> {
  for await (const item of source) yield f(item);
}
