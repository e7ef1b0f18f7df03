import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { once } from "node:events";
import type { NodeHandler } from "./json.js";

/**
 * One TCP port for HTTP/1.1 and cleartext HTTP/2 (h2c with prior knowledge).
 *
 * `http2.createServer({ allowHTTP1: true })` only negotiates HTTP/1.1 over TLS
 * (ALPN); a plain HTTP/1.1 request to it is answered as HTTP/0.9. So each
 * connection's first bytes are inspected: the HTTP/2 client preface starts
 * with "PRI * HTTP/2.0", which no HTTP/1.x request can, and the socket is
 * handed to the matching server. Both servers share one request handler.
 */
export type RequestHandler = NodeHandler;

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n");

export interface OnePortServer {
  listen(port: number, host: string): Promise<{ port: number; host: string }>;
  /**
   * Graceful stop: refuse new connections, let in-flight requests finish (up
   * to `graceMs`), then close what is left. Resolves when every socket is gone.
   */
  close(graceMs: number): Promise<void>;
  /** Requests being handled right now (for logs on drain). */
  inFlight(): number;
}

export function createOnePortServer(handler: RequestHandler): OnePortServer {
  let active = 0;
  let draining = false;
  // HTTP/1.1 keep-alive sockets and how many requests each is serving; the
  // http server's own idle tracking only runs for servers that listen
  // themselves, which ours never does.
  const h1Sockets = new Map<net.Socket, number>();

  const counted: RequestHandler = (req, res) => {
    active++;
    const h1Socket = "stream" in req ? undefined : req.socket;
    if (h1Socket) h1Sockets.set(h1Socket, (h1Sockets.get(h1Socket) ?? 0) + 1);
    if (draining && h1Socket) res.setHeader("connection", "close");
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      active--;
      if (h1Socket && h1Sockets.has(h1Socket)) {
        const left = (h1Sockets.get(h1Socket) ?? 1) - 1;
        h1Sockets.set(h1Socket, left);
        if (draining && left === 0) h1Socket.end();
      }
    };
    // Both response kinds emit these; the union type does not say so.
    (res as NodeJS.EventEmitter).once("close", finish);
    (res as NodeJS.EventEmitter).once("finish", finish);
    handler(req, res);
  };

  const h1 = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => counted(req, res));
  const h2 = http2.createServer({}, (req, res) => counted(req, res));
  const sockets = new Set<net.Socket>();
  const h2Sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });

  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => {
      sockets.delete(socket);
      h1Sockets.delete(socket);
      h2Sockets.delete(socket);
    });
    socket.on("error", () => socket.destroy());
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const n = Math.min(buffered.length, H2_PREFACE.length);
      const isH2 = buffered.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (isH2 && buffered.length < H2_PREFACE.length) return; // wait for the whole preface line
      socket.off("data", onData);
      socket.pause();
      socket.unshift(buffered);
      if (isH2) {
        h2Sockets.add(socket);
        h2.emit("connection", socket);
      } else {
        h1Sockets.set(socket, 0);
        h1.emit("connection", socket);
        socket.resume();
      }
    };
    socket.on("data", onData);
  });

  return {
    async listen(port, host) {
      tcp.listen(port, host);
      await once(tcp, "listening");
      const address = tcp.address() as net.AddressInfo;
      return { port: address.port, host: address.address };
    },

    async close(graceMs) {
      draining = true;
      const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      // HTTP/2: GOAWAY lets clients finish open streams and open no new ones.
      for (const session of sessions) session.close();
      // HTTP/1.1: idle keep-alive sockets end now; busy ones after their response (see finish).
      for (const [socket, requests] of h1Sockets) if (requests === 0) socket.end();
      // A socket that never sent a byte is not ours to wait for either.
      for (const socket of sockets) if (!h1Sockets.has(socket) && !h2Sockets.has(socket)) socket.end();
      const deadline = Date.now() + graceMs;
      while ((active > 0 || sockets.size > 0) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      for (const socket of sockets) socket.destroy();
      for (const session of sessions) session.destroy();
      await closed;
    },

    inFlight: () => active,
  };
}

