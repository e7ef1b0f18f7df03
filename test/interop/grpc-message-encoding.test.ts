/**
 * The install-time patch of @connectrpc/connect (patches/, applied by
 * patch-package on `npm ci`): grpc-message percent-encoded as the gRPC spec
 * asks, in both builds the package exports — ES modules (what the service
 * loads) and CommonJS (what a `require` anywhere in the process loads).
 */
import { createRequire } from "node:module";
import * as esmConnect from "@connectrpc/connect";
import * as esmGrpc from "@connectrpc/connect/protocol-grpc";
import { describe, expect, it } from "vitest";

const require = createRequire(import.meta.url);
const builds = {
  esm: { connect: esmConnect, grpc: esmGrpc },
  cjs: { connect: require("@connectrpc/connect") as typeof esmConnect, grpc: require("@connectrpc/connect/protocol-grpc") as typeof esmGrpc },
};

const MESSAGE = 'metadata["clé:ü;1+1=2 ✓"]: must be at most 1024 characters; 100% sure, a/b?c@d&e#f';

describe.each(Object.keys(builds) as (keyof typeof builds)[])("grpc-message from the %s build", (build) => {
  const { connect, grpc } = builds[build];
  const trailer = grpc.setTrailerStatus(new Headers(), new connect.ConnectError(MESSAGE, connect.Code.InvalidArgument));
  const sent = trailer.get("grpc-message") ?? "";

  it("when the message has reserved ASCII, '%' and non-ASCII, then only '%' and the bytes outside 0x20-0x7E are escaped", () => {
    expect(sent).toBe('metadata["cl%C3%A9:%C3%BC;1+1=2 %E2%9C%93"]: must be at most 1024 characters; 100%25 sure, a/b?c@d&e#f');
  });

  it("when a client decodes it with decodeURI (grpc-js) or decodeURIComponent (Connect), then both read the message exactly", () => {
    expect(decodeURI(sent)).toBe(MESSAGE);
    expect(decodeURIComponent(sent)).toBe(MESSAGE);
  });
});
