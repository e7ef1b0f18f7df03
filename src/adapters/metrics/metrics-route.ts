import http from "node:http";

import type { ServiceMetrics } from "../../observability/metrics.js";
import type { AnyRequest, AnyResponse } from "../http/json.js";

export const METRICS_PATH = "/metrics";

/**
 * `GET /metrics`: the Prometheus text exposition. Public like the health
 * routes (it carries no message content, phone numbers or secrets); put it
 * on its own `METRICS_ADDRESS` to keep it off the service port.
 * Resolves false when the request is not for it.
 */
export async function serveMetrics(req: AnyRequest, res: AnyResponse, metrics: ServiceMetrics): Promise<boolean> {
  const path = (req.url ?? "").split("?")[0];
  if (path !== METRICS_PATH) return false;
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
    res.end("method not allowed\n");
    return true;
  }
  const { contentType, body } = await metrics.render();
  res.writeHead(200, { "content-type": contentType, "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
  res.end(req.method === "HEAD" ? "" : body);
  return true;
}

export interface MetricsListener {
  /** `http://host:port` it listens on. */
  url: string;
  close(): Promise<void>;
}

/** A plain HTTP/1.1 listener that serves only `/metrics` (METRICS_ADDRESS). */
export async function listenForMetrics(host: string, port: number, metrics: ServiceMetrics, onError: (error: unknown) => void): Promise<MetricsListener> {
  const server = http.createServer((req, res) => {
    serveMetrics(req, res, metrics).then(
      (served) => {
        if (!served) {
          res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
          res.end("not found\n");
        }
      },
      (error: unknown) => {
        onError(error);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const bound = typeof address === "object" && address ? address.port : port;
  const shownHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return {
    url: `http://${shownHost}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
