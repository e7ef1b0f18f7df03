import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AnyRequest, AnyResponse } from "./json.js";
import { discardUnreadBody, readBodyWithLimit } from "./read-body.js";

const LIMIT = 64 * 1024;

/** Answers 200 with the body's length, or 413 as soon as the limit is passed. */
async function handler(req: AnyRequest, res: AnyResponse) {
  const read = await readBodyWithLimit(req, LIMIT);
  if (read.kind === "complete") {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(String(read.body.length));
  } else if (read.kind === "too_large") {
    res.writeHead(413, { "content-type": "text/plain" });
    res.end("too large");
    discardUnreadBody(req);
  }
}

/** POSTs `chunks` one by one (chunked encoding unless `contentLength` is given); resolves with the answer. */
function post1(port: number, chunks: Buffer[], contentLength?: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ port, host: "127.0.0.1", method: "POST", path: "/", headers: contentLength === undefined ? {} : { "content-length": contentLength } });
    req.on("response", (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe("readBodyWithLimit over HTTP/1.1", () => {
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    server = http.createServer((req, res) => void handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("when the body is at the limit, then it is read whole", async () => {
    expect(await post1(port, [Buffer.alloc(LIMIT)], LIMIT)).toEqual({ status: 200, text: String(LIMIT) });
  });

  it("when Content-Length declares more than the limit, then 413 comes back and the client still reads it", async () => {
    const big = Buffer.alloc(4 * LIMIT);
    expect(await post1(port, [big], big.length)).toEqual({ status: 413, text: "too large" });
  });

  it("when a chunked body passes the limit, then reading stops with 413 and the connection answers again afterwards", async () => {
    const chunks = Array.from({ length: 8 }, () => Buffer.alloc(LIMIT / 2));
    expect((await post1(port, chunks)).status).toBe(413);
    expect(await post1(port, [Buffer.from("ok")])).toEqual({ status: 200, text: "2" });
  });

  it("when the body is empty, then it is read as zero bytes", async () => {
    expect(await post1(port, [], 0)).toEqual({ status: 200, text: "0" });
  });
});

describe("readBodyWithLimit over HTTP/2", () => {
  let server: http2.Http2Server;
  let client: http2.ClientHttp2Session;
  beforeAll(async () => {
    server = http2.createServer((req, res) => void handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    // destroy, not close: Node's client keeps a stream whose unsent body was
    // refused (RST_STREAM NO_ERROR) waiting on its own writes forever.
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  function post2(body: Buffer): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const stream = client.request({ ":method": "POST", ":path": "/" });
      let status = 0;
      let text = "";
      stream.on("response", (headers) => (status = Number(headers[":status"])));
      stream.on("data", (c: Buffer) => (text += c.toString()));
      stream.on("end", () => resolve({ status, text }));
      stream.on("error", reject);
      stream.end(body);
    });
  }

  it("when a body without Content-Length passes the limit, then 413 comes back, the server closes the stream and the session keeps serving", async () => {
    const closedOnServer = new Promise<number | undefined>((resolve) => server.once("stream", (stream: http2.ServerHttp2Stream) => stream.once("close", () => resolve(stream.rstCode))));
    expect((await post2(Buffer.alloc(3 * LIMIT))).status).toBe(413);
    expect(await closedOnServer).toBe(http2.constants.NGHTTP2_NO_ERROR);
    expect(await post2(Buffer.from("abc"))).toEqual({ status: 200, text: "3" });
  });
});
