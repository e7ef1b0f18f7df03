import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { once } from "node:events";
import { DEFAULT_CONNECTION_LIMITS, Deadline, REQUEST_TIMEOUT_RESPONSE, type ConnectionLimits } from "./connection-limits.js";
import type { NodeHandler } from "./json.js";

/**
 * One TCP port for HTTP/1.1 and cleartext HTTP/2 (h2c with prior knowledge).
 *
 * `http2.createServer({ allowHTTP1: true })` only negotiates HTTP/1.1 over TLS
 * (ALPN); a plain HTTP/1.1 request to it is answered as HTTP/0.9. So each
 * connection's first bytes are inspected: the HTTP/2 client preface starts
 * with "PRI * HTTP/2.0", which no HTTP/1.x request can, and the socket is
 * handed to the matching server. Both servers share one request handler.
 *
 * The inner servers never listen, so Node's connection sweeps (headers and
 * request timeouts, idle tracking) never run for them: the time limits are our
 * own timers (see connection-limits.ts), and so is the drain.
 */
export type RequestHandler = NodeHandler;

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n");

export interface OnePortServer {
  listen(port: number, host: string): Promise<{ port: number; host: string }>;
  /**
   * Graceful stop: refuse new connections, answer every request already read
   * (HTTP/1.1 answers say `connection: close`, HTTP/2 sessions get GOAWAY), up
   * to `graceMs`, then close what is left. Resolves when every socket is gone.
   */
  close(graceMs: number): Promise<void>;
  /** Requests being handled right now (for logs on drain). */
  inFlight(): number;
  /** Connections open right now (accepted and not yet closed). */
  connections(): number;
}

/** Per HTTP/1.1 connection: requests in flight, the head/idle deadline, and whether we are closing it. */
interface H1Connection {
  requests: number;
  /** Before the first request: its head is late. Between requests: keep-alive idle. */
  deadline: Deadline;
  /** Bytes of a request head may be in; a late one gets a 408 rather than a bare close. */
  awaitingFirstRequest: boolean;
  /** Once set, a request that still arrives on this connection is not read: the socket is destroyed unanswered. */
  closing: boolean;
}

export function createOnePortServer(handler: RequestHandler, limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS): OnePortServer {
  let active = 0;
  let draining = false;
  const h1Connections = new Map<net.Socket, H1Connection>();
  /** Responses not yet started; on drain each gets `connection: close` (HTTP/1.1). */
  const pendingH1Responses = new Set<http.ServerResponse>();

  /** Ends a connection that has nothing in flight; whatever arrives after this is refused unread. */
  const endH1 = (socket: net.Socket, state: H1Connection) => {
    state.closing = true;
    state.deadline.clear();
    socket.end();
  };

  const onH1Request = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket;
    const state = h1Connections.get(socket);
    if (state === undefined || state.closing) {
      // The connection was being closed when this request arrived: it is not read, so it is not answered
      // either — the client sees the connection drop and retries (nothing was committed).
      socket.destroy();
      return;
    }
    state.requests++;
    state.awaitingFirstRequest = false;
    state.deadline.clear();
    if (draining) res.setHeader("connection", "close");
    else pendingH1Responses.add(res);
    const body = new Deadline(() => {
      if (req.complete) return;
      // The body did not arrive in time: answer 408 if nothing was sent yet, and close the connection either way
      // (what is left of the body cannot be told apart from a next request).
      state.closing = true;
      if (!res.headersSent) socket.end(REQUEST_TIMEOUT_RESPONSE, () => socket.destroy());
      else socket.destroy();
    });
    body.arm(limits.requestTimeoutMs);
    req.once("end", () => body.clear());
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      body.clear();
      pendingH1Responses.delete(res);
      state.requests--;
      if (state.requests > 0) return;
      if (draining || state.closing) endH1(socket, state);
      else state.deadline.arm(limits.keepAliveTimeoutMs);
    };
    res.once("close", finish);
    res.once("finish", finish);
    counted(req, res);
  };

  const onH2Request = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    const stream = req.stream;
    const body = new Deadline(() => {
      // The request did not arrive whole in time; the rest of the session is unaffected. "Whole" is the peer's
      // END_STREAM, whether or not the handler read the body (`complete` only says it was read).
      if (req.complete || stream.endAfterHeaders || receivedEnd(stream) || stream.closed) return;
      stream.close(http2.constants.NGHTTP2_CANCEL);
    });
    body.arm(limits.requestTimeoutMs);
    req.once("end", () => body.clear());
    stream.once("close", () => body.clear());
    counted(req, res);
  };

  const counted: RequestHandler = (req, res) => {
    active++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      active--;
    };
    // Both response kinds emit these; the union type does not say so.
    (res as NodeJS.EventEmitter).once("close", finish);
    (res as NodeJS.EventEmitter).once("finish", finish);
    handler(req, res);
  };

  // Node's own timers are turned off: they would not run (see above), and ours must be the only ones.
  const h1 = http.createServer({ keepAliveTimeout: 0, requestTimeout: 0, headersTimeout: 0 }, onH1Request);
  const h2 = http2.createServer({}, onH2Request);
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  /** Sockets handed to the HTTP/2 server (its sessions only expose a proxy of them). */
  const h2Sockets = new Set<net.Socket>();
  h2.on("session", (session) => {
    sessions.add(session);
    let open = 0;
    const idle = new Deadline(() => session.close());
    idle.arm(limits.http2IdleTimeoutMs);
    session.on("stream", (stream: http2.ServerHttp2Stream) => {
      open++;
      idle.clear();
      stream.once("close", () => {
        open--;
        if (open === 0 && !session.closed) idle.arm(limits.http2IdleTimeoutMs);
      });
    });
    session.once("close", () => {
      idle.clear();
      sessions.delete(session);
    });
  });

  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    // First bytes: a connection that sends nothing, or not even a whole HTTP/2 preface line, is closed.
    const sniffing = new Deadline(() => socket.destroy());
    sniffing.arm(limits.headersTimeoutMs);
    const acceptedAt = performance.now();
    socket.once("close", () => {
      sniffing.clear();
      sockets.delete(socket);
      h1Connections.get(socket)?.deadline.clear();
      h1Connections.delete(socket);
      h2Sockets.delete(socket);
    });
    socket.on("error", () => socket.destroy());
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      if (draining) {
        // Not read yet, so not ours to answer: the client retries elsewhere.
        socket.destroy();
        return;
      }
      buffered = Buffer.concat([buffered, chunk]);
      const n = Math.min(buffered.length, H2_PREFACE.length);
      const isH2 = buffered.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (isH2 && buffered.length < H2_PREFACE.length) return; // wait for the whole preface line
      socket.off("data", onData);
      socket.pause();
      socket.unshift(buffered);
      sniffing.clear();
      if (isH2) {
        h2Sockets.add(socket);
        h2.emit("connection", socket);
      } else {
        const state: H1Connection = {
          requests: 0,
          awaitingFirstRequest: true,
          closing: false,
          deadline: new Deadline(() => {
            if (state.requests > 0) return;
            state.closing = true;
            // A late first request head gets Node's 408; an idle keep-alive connection just closes.
            if (state.awaitingFirstRequest) socket.end(REQUEST_TIMEOUT_RESPONSE, () => socket.destroy());
            else socket.destroy();
          }),
        };
        // The head's time counts from the connection's accept, sniffing included.
        state.deadline.arm(Math.max(1, limits.headersTimeoutMs - (performance.now() - acceptedAt)));
        h1Connections.set(socket, state);
        h1.emit("connection", socket);
        socket.resume();
      }
    };
    socket.on("data", onData);
  });
  tcp.maxConnections = limits.maxConnections;

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
      // HTTP/1.1: answers not started yet say the connection closes after them…
      for (const res of pendingH1Responses) if (!res.headersSent) res.setHeader("connection", "close");
      pendingH1Responses.clear();
      // …idle keep-alive connections end now (a request arriving after this is refused unread), busy ones after
      // their last answer (see finish).
      for (const [socket, state] of h1Connections) if (state.requests === 0) endH1(socket, state);
      // A connection that never sent a whole first line is not ours to wait for either.
      for (const socket of sockets) if (!h1Connections.has(socket) && !h2Sockets.has(socket)) socket.destroy();
      const deadline = Date.now() + graceMs;
      // Done when nothing is in flight and every HTTP/1.1 answer has been handed to the kernel; clients that do not
      // close their end are not waited for.
      const settled = () =>
        active === 0 && sessions.size === 0 && [...sockets].every((s) => s.destroyed || (h1Connections.get(s)?.closing === true && s.writableFinished));
      while (!settled() && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      for (const socket of sockets) socket.destroy();
      for (const session of sessions) session.destroy();
      await closed;
    },

    inFlight: () => active,
    connections: () => sockets.size,
  };
}

/** True once the peer ended its side of the stream, even if nobody read what it sent (Readable's own state). */
function receivedEnd(stream: http2.ServerHttp2Stream): boolean {
  return (stream as unknown as { _readableState?: { ended?: boolean } })._readableState?.ended === true;
}
