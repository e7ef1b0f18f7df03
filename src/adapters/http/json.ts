import type { connectNodeAdapter } from "@connectrpc/connect-node";

/** The handler shape of the Connect Node adapter (its own type is not exported). */
export type NodeHandler = ReturnType<typeof connectNodeAdapter>;
/** Request and response of either HTTP version, as the adapter hands them to `fallback`. */
export type AnyRequest = Parameters<NodeHandler>[0];
export type AnyResponse = Parameters<NodeHandler>[1];

export function sendJson(res: AnyResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
}
