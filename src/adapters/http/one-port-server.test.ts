import http from "node:http";
import http2 from "node:http2";
import { afterEach, describe, expect, it } from "vitest";
import { createOnePortServer, type OnePortServer } from "./one-port-server.js";

function h1Get(port: number, agent: http.Agent): Promise<{ status: number; body: string; version: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: "/", agent }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, version: res.httpVersion }));
      })
      .on("error", reject);
  });
}

function h2Get(session: http2.ClientHttp2Session): Promise<string> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":path": "/" });
    let body = "";
    stream.on("data", (c: Buffer) => (body += c.toString()));
    stream.on("end", () => resolve(body));
    stream.on("error", reject);
  });
}

describe("one-port server", () => {
  let server: OnePortServer | undefined;
  afterEach(async () => {
    await server?.close(0);
    server = undefined;
  });

  it("when HTTP/1.1 and h2c clients connect to the same port, then both are served by the same handler", async () => {
    server = createOnePortServer((req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`hello over ${req.httpVersion}`);
    });
    const { port } = await server.listen(0, "127.0.0.1");
    const agent = new http.Agent({ keepAlive: false });
    expect(await h1Get(port, agent)).toMatchObject({ status: 200, body: "hello over 1.1" });
    const session = http2.connect(`http://127.0.0.1:${port}`);
    expect(await h2Get(session)).toBe("hello over 2.0");
    session.close();
  });

  it("when closing with requests in flight, then they finish and idle keep-alive sockets do not hold the close", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    let arrived: () => void = () => {};
    const slowArrived = new Promise<void>((r) => (arrived = r));
    server = createOnePortServer((req, res) => {
      if (req.url === "/slow") {
        arrived();
        void gate.then(() => res.end("slow done"));
      } else res.end("fast");
    });
    const { port } = await server.listen(0, "127.0.0.1");
    const agent = new http.Agent({ keepAlive: true });
    expect((await h1Get(port, agent)).body).toBe("fast"); // leaves an idle keep-alive socket

    const slow = new Promise<string>((resolve, reject) => {
      http
        .get({ host: "127.0.0.1", port, path: "/slow", agent: new http.Agent({ keepAlive: true }) }, (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString()));
          res.on("end", () => resolve(body));
        })
        .on("error", reject);
    });
    await slowArrived;
    expect(server.inFlight()).toBe(1);
    const closing = server.close(60_000);
    release();
    expect(await slow).toBe("slow done");
    await closing; // resolves long before the 60 s grace: nothing idle was waited for
    expect(server.inFlight()).toBe(0);
    server = undefined;
    agent.destroy();
  });
});
