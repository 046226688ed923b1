/**
 * How long a TASK thread takes to become ready (wink-nlp model + compact word vectors), and what
 * it costs in memory. Run in a fresh process so nothing is loaded yet:
 *
 *   node bench/task-startup.ts [--threads 1]
 */
import { parseArgs } from "node:util";
import { TaskPool } from "../worker-node/tasks/task-pool.ts";

const { values } = parseArgs({ options: { threads: { type: "string", default: "1" } } });
const threads = Number(values.threads);
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

const rssBefore = process.memoryUsage().rss;
const started = performance.now();
const pool = new TaskPool(threads);
await pool.ready();
const readyMs = performance.now() - started;
const rssReady = process.memoryUsage().rss;
const firstStarted = performance.now();
await pool.run(
  { task_type: "classify", input: "The app crashes when I open settings.", labels: ["billing", "bug", "account"] },
  { timeoutMs: 30_000 },
);
const firstMs = performance.now() - firstStarted;
const rssAfter = process.memoryUsage().rss;
await pool.close();

console.log(`${threads} TASK thread(s) ready in ${readyMs.toFixed(0)} ms; first classify with new labels ${firstMs.toFixed(0)} ms`);
console.log(`process RSS: ${mb(rssBefore)} before, ${mb(rssReady)} with the thread(s) ready, ${mb(rssAfter)} after the first job`);
console.log(`| TASK thread ready (wink model + word vectors) | ${readyMs.toFixed(0)} ms |`);
console.log(`| RSS added by ${threads} ready thread(s) | ${mb(rssReady - rssBefore)} |`);
