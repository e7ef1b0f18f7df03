/**
 * Run as its own process by postgres-driver.test.ts: an uncaught exception in
 * the driver (porsager/postgres#1208) kills the process, and the test must see
 * that as an exit code, not as a crash of the test runner.
 *
 * Prints one JSON line per scenario: { scenario, outcome } and exits 0 when it
 * got to the end.
 */
import postgres from "postgres";

const url = process.env.PG_URL;
if (!url) throw new Error("PG_URL is required");
const report = (scenario: string, outcome: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ scenario, ...outcome })}\n`);
const codeOf = (error: unknown) => (error as { code?: string }).code ?? String(error);

const killer = postgres(url, { max: 1, onnotice: () => {} });

async function reservedConnection() {
  // The reproduction from the issue: a reserved connection whose backend was terminated, queried twice.
  const sql = postgres(url!, { max: 2, onnotice: () => {} });
  const reserved = await sql.reserve();
  const [row] = await reserved<{ pid: number }[]>`select pg_backend_pid() as pid`;
  const pid = row!.pid;
  await killer`select pg_terminate_backend(${pid})`;
  const first = await reserved`select 1`.then(() => "ok", codeOf);
  const second = await reserved`select 1`.then(() => "ok", codeOf);
  reserved.release();
  const after = await Promise.race([
    sql`select 1 as one`.then(() => "ok", codeOf),
    new Promise((resolve) => setTimeout(() => resolve("pending"), 10_000)),
  ]);
  await sql.end({ timeout: 1 });
  report("reserved", { first, second, after });
}

async function transactionContinuesAfterDeath() {
  // A transaction whose backend dies while its callback is still running: the callback's next query and
  // the driver's own ROLLBACK are written to a connection that has no socket any more.
  const sql = postgres(url!, { max: 2, onnotice: () => {} });
  let inner = "not reached";
  const outcome = await sql
    .begin(async (tx) => {
      const [row] = await tx<{ pid: number }[]>`select pg_backend_pid() as pid`;
      const pid = row!.pid;
      await killer`select pg_terminate_backend(${pid})`;
      await new Promise((resolve) => setTimeout(resolve, 100));
      inner = await tx`select 1`.then(() => "ok", codeOf);
      await tx`select 2`;
    })
    .then(() => "committed", codeOf);
  const after = await Promise.race([
    sql`select 1 as one`.then(() => "ok", codeOf),
    new Promise((resolve) => setTimeout(() => resolve("pending"), 10_000)),
  ]);
  await sql.end({ timeout: 1 });
  report("transaction", { outcome, inner, after });
}

async function transactionReusedConnection() {
  // The reserved reproduction inside a transaction, on a pool of one so the next queries get the same
  // connection object, reconnected. Writing to the terminated backend often gets ECONNRESET, whose 'close'
  // comes a loop turn later: the driver's ROLLBACK written in between was left queued on the connection,
  // and the dead backend's 57P01 was replayed onto the reconnected socket's first query.
  const sql = postgres(url!, { max: 1, onnotice: () => {} });
  const outcome = await sql
    .begin(async (tx) => {
      const [row] = await tx<{ pid: number }[]>`select pg_backend_pid() as pid`;
      await killer`select pg_terminate_backend(${row!.pid})`;
      await tx`select 1`.catch(() => undefined);
      await tx`select 2`;
    })
    .then(() => "committed", codeOf);
  const within = (query: Promise<unknown>) => Promise.race([query, new Promise((resolve) => setTimeout(() => resolve("pending"), 10_000))]);
  const after = await within(sql<{ n: number }[]>`select 42 as n`.then((rows) => rows[0]?.n, codeOf));
  const next = await within(sql<{ n: number }[]>`select 43 as n`.then((rows) => rows[0]?.n, codeOf));
  await sql.end({ timeout: 1 });
  report("transaction-reused", { outcome, after, next });
}

async function underLoad() {
  // Many small transactions at once while every backend of the pool is terminated, a few times over.
  const sql = postgres(url!, { max: 10, onnotice: () => {}, connection: { application_name: "driver-load" } });
  await sql`create table if not exists load_rows (id serial primary key, n int not null)`;
  let committed = 0;
  let refused = 0;
  const other: string[] = [];
  let stop = false;
  const workers = Array.from({ length: 20 }, async () => {
    while (!stop) {
      await sql
        .begin(async (tx) => {
          await tx`insert into load_rows (n) values (1)`;
          await tx`select count(*) from load_rows where n = 1`;
        })
        .then(
          () => committed++,
          (error: unknown) => {
            const code = codeOf(error);
            if (code === "CONNECTION_CLOSED" || code === "57P01" || code === "CONNECTION_ENDED" || code === "ECONNRESET") refused++;
            else other.push(code);
          },
        );
    }
  });
  for (let round = 0; round < 5; round++) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    await killer`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'driver-load'`;
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  stop = true;
  await Promise.all(workers);
  const [row] = await sql<{ count: string }[]>`select count(*)::text as count from load_rows`;
  const count = row!.count;
  const after = await sql`select 1 as one`.then(() => "ok", codeOf);
  await sql.end({ timeout: 1 });
  report("load", { committed, refused, other: [...new Set(other)], stored: Number(count), after });
}

await reservedConnection();
await transactionContinuesAfterDeath();
await transactionReusedConnection();
await underLoad();
await killer.end({ timeout: 1 });
report("end", {});
