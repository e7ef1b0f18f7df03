/**
 * A replica that dies: claims inbox rows with a short lease and starts
 * processing them; the test kills this process (SIGKILL) while its
 * transaction is open. Usage: crashing-worker.ts <database url>
 */
import { openDatabase } from "../../../src/adapters/postgres/index.js";
import { createWorker } from "./inbound-harness.js";

const url = process.argv[2];
if (!url) throw new Error("usage: crashing-worker.ts <database url>");
const handle = await openDatabase({ databaseUrl: url, dataDir: "unused" });
const worker = createWorker(handle.db, { workerId: "inbox-crashing", leaseMs: 500 });
await worker.runOnce();
