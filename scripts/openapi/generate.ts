/**
 * `npm run generate` (after `buf generate` and `buf build`): writes
 * openapi/openapi.json and deploy/krakend/krakend.json from the descriptor
 * set deploy/krakend/whatsapp.binpb, which carries the proto comments.
 * Deterministic: regenerating from the same protos changes nothing (CI checks).
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { buildKrakend } from "./krakend.js";
import { buildOpenApi } from "./openapi.js";
import { apiServices } from "./services.js";

const root = path.resolve(import.meta.dirname, "../..");
const descriptorSet = fromBinary(FileDescriptorSetSchema, readFileSync(path.join(root, "deploy/krakend/whatsapp.binpb")));
const services = apiServices(createFileRegistry(descriptorSet));
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string; description: string };

const openapi = buildOpenApi({
  services,
  title: "whatsapp-service REST API",
  version: pkg.version,
  description: `${pkg.description}.\n\nEvery RPC is also served as REST/JSON (gRPC-gateway style transcoding of its google.api.http annotation). Bodies and responses are proto3 JSON (lowerCamelCase names; snake_case accepted). Errors are google.rpc.Status JSON.`,
});
writeFileSync(path.join(root, "openapi/openapi.json"), `${JSON.stringify(openapi, null, 2)}\n`);
writeFileSync(path.join(root, "deploy/krakend/krakend.json"), `${JSON.stringify(buildKrakend(services), null, 2)}\n`);
