/**
 * The bare reference of SPEC §10: the least any durable webhook edge can do.
 * A plain node:http server that reads the raw body (1 MiB limit), checks
 * `X-Hub-Signature-256` in constant time, parses the JSON, INSERTs the raw
 * body into its own table with postgres.js (one autocommitted INSERT per
 * delivery) and answers 200 after that commit. No routing, no logging, no
 * framework — the yardstick the service is measured against.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import postgres from "postgres";

const MAX_BODY_BYTES = 1024 * 1024;
export const BARE_TABLE = "bench_bare_inbox";

export interface BareReference {
  url: string;
  /** Rows stored so far. */
  storedCount(): Promise<number>;
  stop(): Promise<void>;
}

export interface BareReferenceOptions {
  databaseUrl: string;
  appSecret: string;
  /** postgres.js pool size; give it the service's (10) for a fair comparison. */
  poolSize: number;
  port?: number;
}

export async function startBareReference(options: BareReferenceOptions): Promise<BareReference> {
  const sql = postgres(options.databaseUrl, { max: options.poolSize, onnotice: () => {} });
  await sql.unsafe(`create table if not exists ${BARE_TABLE} (
    id bigserial primary key,
    received_at timestamptz not null default now(),
    body bytea not null
  )`);

  const answer = (res: http.ServerResponse, status: number, body: string) => {
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  };

  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    if (req.method !== "POST") return answer(res, 405, '{"error":"method not allowed"}');
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => {
      if (size > MAX_BODY_BYTES) return answer(res, 413, '{"error":"payload too large"}');
      const body = Buffer.concat(chunks, size);
      const header = req.headers["x-hub-signature-256"];
      const expected = createHmac("sha256", options.appSecret).update(body).digest();
      const presented = typeof header === "string" && /^sha256=[0-9a-f]{64}$/.test(header) ? Buffer.from(header.slice(7), "hex") : undefined;
      if (!presented || !timingSafeEqual(presented, expected)) return answer(res, 401, '{"error":"invalid signature"}');
      try {
        JSON.parse(body.toString("utf8"));
      } catch {
        return answer(res, 400, '{"error":"malformed JSON"}');
      }
      sql`insert into ${sql(BARE_TABLE)} (body) values (${body})`.then(
        () => answer(res, 200, '{"status":"received"}'),
        () => answer(res, 503, '{"error":"temporarily unavailable"}'),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/`,
    storedCount: async () => Number((await sql.unsafe(`select count(*)::int as n from ${BARE_TABLE}`))[0]!.n),
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await sql.end({ timeout: 5 });
    },
  };
}
