import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from "./connection-limits.js";
import { createOnePortServer, type OnePortServer, type RequestHandler } from "./one-port-server.js";

const FAST: ConnectionLimits = { headersTimeoutMs: 300, requestTimeoutMs: 300, keepAliveTimeoutMs: 300, http2IdleTimeoutMs: 300, maxConnections: 100 };

/** A raw TCP client: what it received and when the server closed it. */
function rawClient(port: number) {
  const socket = net.connect(port, "127.0.0.1");
  let received = "";
  socket.on("data", (c: Buffer) => (received += c.toString()));
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return { socket, received: () => received, closed };
}

const ok: RequestHandler = (req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(`got ${Buffer.concat(chunks).length}`);
  });
};

describe("one-port server limits", () => {
  let server: OnePortServer | undefined;
  const timers: NodeJS.Timeout[] = [];
  afterEach(async () => {
    for (const t of timers) clearInterval(t);
    await server?.close(0);
    server = undefined;
  });

  async function start(handler: RequestHandler, limits: ConnectionLimits = FAST): Promise<number> {
    server = createOnePortServer(handler, limits);
    return (await server.listen(0, "127.0.0.1")).port;
  }

  it("when a connection sends nothing, then it is closed after the headers timeout", async () => {
    const port = await start(ok);
    const client = rawClient(port);
    await client.closed;
    expect(client.received()).toBe("");
    while (server!.connections() > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  });

  it("when a client sends its request head one byte at a time, then it gets 408 and the connection is closed", async () => {
    const port = await start(ok);
    const client = rawClient(port);
    const head = "GET /slow HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let i = 0;
    timers.push(setInterval(() => !client.socket.destroyed && i < head.length && client.socket.write(head[i++]!), 50));
    await client.closed;
    expect(client.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout/);
    expect(i).toBeLessThan(head.length);
  });

  it("when a POST body stops half-way, then the client gets 408 and the connection is closed", async () => {
    let handled = 0;
    const port = await start((req, res) => {
      handled++;
      ok(req, res);
    });
    const client = rawClient(port);
    client.socket.write("POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"half\":");
    await client.closed;
    expect(handled).toBe(1);
    expect(client.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout/);
  });

  it("when a keep-alive connection stays idle after an answer, then it is closed by the keep-alive timeout", async () => {
    const port = await start(ok);
    const client = rawClient(port);
    client.socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await client.closed;
    expect(client.received()).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(client.received()).not.toContain("408");
  });

  it("when an HTTP/2 server stream runs longer than the request timeout, then it is not cut, and the idle session is closed after it", async () => {
    const port = await start((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      let n = 0;
      const tick = setInterval(() => {
        res.write(`tick ${n}\n`);
        if (++n === 10) {
          clearInterval(tick);
          res.end();
        }
      }, 100);
    });
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", () => {});
    const sessionClosed = new Promise<void>((resolve) => session.once("close", () => resolve()));
    const body = await new Promise<string>((resolve, reject) => {
      const stream = session.request({ ":path": "/watch" });
      let text = "";
      stream.on("data", (c: Buffer) => (text += c.toString()));
      stream.on("end", () => resolve(text));
      stream.on("error", reject);
    });
    expect(body.trim().split("\n")).toHaveLength(10);
    await sessionClosed;
  });

  it("when an HTTP/2 request body stalls, then that stream is reset and the session still serves the next request", async () => {
    const port = await start(ok, { ...FAST, http2IdleTimeoutMs: 60_000 });
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", () => {});
    const stalled = session.request({ ":path": "/webhook", ":method": "POST" });
    stalled.write("{\"half\":");
    const outcome = await new Promise<string>((resolve) => {
      stalled.on("response", (h) => resolve(`status ${String(h[":status"])}`));
      stalled.on("error", (e: Error) => resolve(e.message));
      stalled.on("close", () => resolve(`closed ${stalled.rstCode}`));
    });
    expect(outcome).toMatch(/NGHTTP2_CANCEL|closed 8/);
    const next = await new Promise<string>((resolve, reject) => {
      const stream = session.request({ ":path": "/", ":method": "POST" });
      let text = "";
      stream.on("data", (c: Buffer) => (text += c.toString()));
      stream.on("end", () => resolve(text));
      stream.on("error", reject);
      stream.end("abc");
    });
    expect(next).toBe("got 3");
    session.close();
  });

  it("when more connections arrive than the cap, then the extra ones are closed at once and the held ones still get answers", async () => {
    const port = await start(ok, { ...DEFAULT_CONNECTION_LIMITS, maxConnections: 3 });
    const held = [rawClient(port), rawClient(port), rawClient(port)];
    await new Promise((resolve) => setTimeout(resolve, 100));
    const extra = rawClient(port);
    await extra.closed;
    held[0]!.socket.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    await held[0]!.closed;
    expect(held[0]!.received()).toMatch(/^HTTP\/1\.1 200 OK/);
    for (const c of held) c.socket.destroy();
  });

  it("when the server drains, then an answer in flight says connection: close and a request arriving on an idle connection is not handled", async () => {
    let release: (() => void) | undefined;
    const handled: string[] = [];
    const port = await start(
      (req, res) => {
        handled.push(req.url ?? "");
        if (req.url === "/slow") {
          release = () => res.end("slow done");
          return;
        }
        res.end("quick");
      },
      DEFAULT_CONNECTION_LIMITS,
    );
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string, useAgent: http.Agent) =>
      new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
        http
          .get({ host: "127.0.0.1", port, path, agent: useAgent }, (res) => {
            let body = "";
            res.on("data", (c: Buffer) => (body += c.toString()));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
          })
          .on("error", reject);
      });
    const idle = rawClient(port);
    idle.socket.write("GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
    while (!idle.received().includes("quick")) await new Promise((resolve) => setTimeout(resolve, 10));
    const slow = get("/slow", new http.Agent({ keepAlive: true }));
    while (release === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
    const closing = server!.close(5_000);
    idle.socket.write("GET /after-drain HTTP/1.1\r\nHost: x\r\n\r\n");
    release();
    const answer = await slow;
    await closing;
    server = undefined;
    expect(answer).toMatchObject({ status: 200, connection: "close", body: "slow done" });
    expect(handled).not.toContain("/after-drain");
    agent.destroy();
  });
});
