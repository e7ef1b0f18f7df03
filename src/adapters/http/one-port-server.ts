import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { once } from "node:events";

/**
 * One TCP port for HTTP/1.1 and cleartext HTTP/2 (h2c with prior knowledge).
 *
 * `http2.createServer({ allowHTTP1: true })` only negotiates HTTP/1.1 over TLS
 * (ALPN); a plain HTTP/1.1 request to it is answered as HTTP/0.9. So each
 * connection's first bytes are inspected: the HTTP/2 client preface starts
 * with "PRI * HTTP/2.0", which no HTTP/1.x request can, and the socket is
 * handed to the matching server. Both servers share one request handler.
 */
export type RequestHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

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
  const counted: RequestHandler = (req, res) => {
    active++;
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        active--;
      }
    };
    res.once("close", finish);
    res.once("finish", finish);
    handler(req, res);
  };

  const h1 = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, counted);
  const h2 = http2.createServer({}, counted);
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });

  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
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
        h2.emit("connection", socket);
      } else {
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
      const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      // HTTP/2: GOAWAY lets clients finish open streams and open no new ones.
      for (const session of sessions) session.close();
      // HTTP/1.1: idle keep-alive sockets go now; busy ones after their response.
      h1.closeIdleConnections();
      h1.on("request", (_req, res) => res.setHeader("connection", "close"));
      const deadline = Date.now() + graceMs;
      while ((active > 0 || sockets.size > 0) && Date.now() < deadline) {
        h1.closeIdleConnections();
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      for (const socket of sockets) socket.destroy();
      for (const session of sessions) session.destroy();
      await closed;
    },

    inFlight: () => active,
  };
}
