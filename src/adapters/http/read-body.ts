import http2 from "node:http2";
import type { AnyRequest } from "./json.js";

/** What reading a request body with a hard limit ended with. */
export type BodyRead =
  | { kind: "complete"; body: Buffer }
  /** Over the limit: declared by Content-Length (nothing read) or found while streaming (reading stopped). */
  | { kind: "too_large" }
  /** The client went away or the stream failed before the body ended. */
  | { kind: "aborted" };

/**
 * Reads the raw body, refusing anything over `maxBytes` as early as possible:
 * a Content-Length above the limit is refused before a byte is read, and a
 * body without one (chunked, HTTP/2) stops being read the moment it passes
 * the limit. Memory held is never more than `maxBytes` plus one chunk.
 */
export function readBodyWithLimit(req: AnyRequest, maxBytes: number): Promise<BodyRead> {
  const declared = req.headers["content-length"];
  if (declared !== undefined && (!/^\d+$/.test(declared) || Number(declared) > maxBytes)) {
    return Promise.resolve({ kind: "too_large" });
  }
  // Already consumed by someone else: there is nothing left to read (a bug, not the client's fault).
  if (req.readableEnded) return Promise.resolve({ kind: "aborted" });

  const stream = req as NodeJS.ReadableStream & NodeJS.EventEmitter;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (result: BodyRead) => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("error", onAbort);
      stream.off("close", onAbort);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        stream.pause();
        settle({ kind: "too_large" });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => settle({ kind: "complete", body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) });
    const onAbort = () => settle({ kind: "aborted" });
    stream.on("data", onData);
    stream.once("end", onEnd);
    stream.once("error", onAbort);
    stream.once("close", onAbort);
  });
}

/** Bounds on what is thrown away after an early answer. */
export interface DiscardLimits {
  maxBytes: number;
  maxMs: number;
}

export const DEFAULT_DISCARD_LIMITS: DiscardLimits = { maxBytes: 4 * 1024 * 1024, maxMs: 5_000 };

/**
 * After answering before the request body was read (413, 401 for an unknown
 * secret, 404), makes sure the client can still read that answer and that the
 * connection does not stay tied up by a body nobody wants.
 *
 * HTTP/1.1: closing the socket while the client is still sending makes the
 * kernel reset the connection, and a reset can destroy the answer before the
 * client reads it. So the rest of the body is read and dropped, within a
 * byte and time budget; past it, the socket is destroyed. HTTP/2: the stream
 * is closed with NO_ERROR once the answer is out (RFC 9113 §8.1), which tells
 * the client to stop sending without touching the other streams.
 */
export function discardUnreadBody(req: AnyRequest, limits: DiscardLimits = DEFAULT_DISCARD_LIMITS): void {
  if (req.complete) {
    // Everything has arrived; what is still buffered must be dropped, or a
    // paused request would keep its HTTP/1.1 socket paused too.
    req.resume();
    return;
  }
  if ("stream" in req) {
    const stream = req.stream;
    const close = () => {
      if (!stream.closed && !stream.destroyed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
    };
    // A paused stream would never end, and Node destroys a NO_ERROR-closed
    // stream only once its readable side has ended: drop what still arrives.
    req.resume();
    // The response object only reports "finish" once the stream has closed;
    // the stream's own writable side says when the answer is fully handed over.
    if (stream.writableFinished) close();
    else stream.once("finish", close);
    return;
  }
  const socket = req.socket;
  let dropped = 0;
  const timer = setTimeout(() => socket.destroy(), limits.maxMs);
  timer.unref();
  const stop = () => clearTimeout(timer);
  req.on("data", (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > limits.maxBytes) {
      stop();
      socket.destroy();
    }
  });
  req.once("end", stop);
  req.once("close", stop);
  req.resume();
}
