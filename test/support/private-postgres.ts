/**
 * A private PostgreSQL cluster per test file (initdb in a temp dir, its own
 * port, its own socket dir, trust auth) for tests that terminate backends,
 * kill them or restart the server. Never the shared server: killing a backend
 * there would reset every connection of every other test.
 *
 * PostgreSQL refuses to run as root; when the tests do, the cluster is
 * created and run as the `postgres` OS user.
 */
import { execFile } from "node:child_process";
import { chmod, chown, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import postgres from "postgres";

const run = promisify(execFile);
/** Where the machine's PostgreSQL binaries live; PG_BIN_DIR overrides. */
export const PG_BIN_DIR = process.env.PG_BIN_DIR || "/usr/lib/postgresql/15/bin";

export interface PrivatePostgres {
  port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres`; stays the same across restarts. */
  url: string;
  /** A URL for another database on the same cluster. */
  urlFor(database: string): string;
  createDatabase(name: string): Promise<string>;
  /** `pg_terminate_backend` on every backend whose application_name starts with `applicationName`; returns how many. */
  terminate(applicationName: string): Promise<number>;
  /** `kill -9` of one backend whose application_name starts with `applicationName`: the postmaster then resets every connection. Returns its pid, or undefined. */
  killOneBackend(applicationName: string): Promise<number | undefined>;
  /** Fast shutdown (connections closed), then start again on the same port and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the cluster and deletes it. */
  cleanup(): Promise<void>;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const root = await mkdtemp(path.join(tmpdir(), "pg-private-"));
  const dataDir = path.join(root, "data");
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    await chown(root, Number(stdout.trim()), Number(gid.trim()));
    await chmod(root, 0o700);
  }
  const pg = (bin: string, args: string[]) =>
    asRoot ? run("runuser", ["-u", "postgres", "--", path.join(PG_BIN_DIR, bin), ...args]) : run(path.join(PG_BIN_DIR, bin), args);

  await pg("initdb", ["-D", dataDir, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  // fsync off: the tests kill backends and restart, they never crash the machine.
  const options = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const start = async () => {
    await pg("pg_ctl", ["-D", dataDir, "-o", options, "-l", path.join(root, "log"), "-w", "-t", "60", "start"]);
  };
  const stop = async () => {
    await pg("pg_ctl", ["-D", dataDir, "-m", "fast", "-w", "-t", "60", "stop"]).catch(() => undefined);
  };
  await start();

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const admin = () => postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10, connection: { application_name: "test-admin" } });
  const urlFor = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;

  return {
    port,
    url,
    urlFor,
    async createDatabase(name) {
      const sql = admin();
      try {
        await sql.unsafe(`create database "${name}"`);
      } finally {
        await sql.end({ timeout: 5 });
      }
      return urlFor(name);
    },
    async terminate(applicationName) {
      const sql = admin();
      try {
        const rows = await sql<{ ok: boolean }[]>`
          select pg_terminate_backend(pid) as ok from pg_stat_activity
          where starts_with(application_name, ${applicationName}) and pid <> pg_backend_pid()`;
        return rows.filter((r) => r.ok).length;
      } finally {
        await sql.end({ timeout: 5 });
      }
    },
    async killOneBackend(applicationName) {
      const sql = admin();
      let pid: number | undefined;
      try {
        const rows = await sql<{ pid: number }[]>`
          select pid from pg_stat_activity where starts_with(application_name, ${applicationName}) order by backend_start limit 1`;
        pid = rows[0]?.pid;
      } finally {
        await sql.end({ timeout: 5 });
      }
      if (pid !== undefined) process.kill(pid, "SIGKILL");
      return pid;
    },
    async restart() {
      await stop();
      await start();
    },
    stop,
    start,
    async cleanup() {
      await stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error("no free port"))));
    });
  });
}
