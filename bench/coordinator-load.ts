// Load benchmark: N simulated workers over real WebSockets, M concurrent seekers (instant TASK
// jobs with valid signed receipts), against the coordinator both under `wrangler dev` and as the
// built bundle on workerd with no dev proxy (production has no such proxy). Every figure is also
// a ratio to the platform floor measured in the same run: a request that never reaches the
// Durable Object, and one that does.
import type { DevCoordinator } from "../scripts/dev-coordinator.ts";
import { startCoordinator } from "../scripts/dev-coordinator.ts";
import { startWorkerdCoordinator } from "../scripts/workerd-coordinator.ts";
import { SimWorker } from "./sim-worker.ts";

type Read = "poll" | "long-poll" | "commit-wait";

interface Run {
  workers: number;
  seekers: number;
  jobs: number;
  read: Read;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const body = (id: number) =>
  JSON.stringify({
    job_type: "TASK",
    user_id: `bench-${id}`,
    payload: { task_type: "summarize", input: "Benchmarks measure the coordinator." },
  });

/** One seeker's job: commit, then read the result the way `read` says. Returns whether it completed. */
async function oneJob(base: string, chain: string, id: number, read: Read): Promise<boolean> {
  const api = `${base}/${chain}/v1`;
  const headers = { "content-type": "application/json" };
  if (read === "commit-wait") {
    const res = await fetch(`${api}/jobs/commit/cheap?wait=30`, { method: "POST", headers, body: body(id) });
    const job = (await res.json()) as { status?: string; job_id?: string; id?: string };
    if (res.status === 200) return job.status === "completed";
    const late = (await (await fetch(`${api}/jobs/${job.job_id}?wait=30`)).json()) as { status: string };
    return late.status === "completed";
  }
  const { job_id } = (await (await fetch(`${api}/jobs/commit/cheap`, { method: "POST", headers, body: body(id) })).json()) as {
    job_id: string;
  };
  if (read === "long-poll") {
    return ((await (await fetch(`${api}/jobs/${job_id}?wait=30`)).json()) as { status: string }).status === "completed";
  }
  for (;;) {
    const job = (await (await fetch(`${api}/jobs/${job_id}`)).json()) as { status: string };
    if (job.status === "completed" || job.status === "failed") return job.status === "completed";
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function runOnce(base: string, run: Run, chain: string): Promise<{ jobsPerSec: number; p50: number; p99: number; failed: number }> {
  const workers = Array.from({ length: run.workers }, () => new SimWorker());
  // A few at a time: the coordinator caps open handshakes per client address (all of ours are one).
  for (let i = 0; i < workers.length; i += 8) {
    await Promise.all(workers.slice(i, i + 8).map((w) => w.connect(base, chain, "SEEKER", { slots: 4 })));
  }
  const latencies: number[] = [];
  let failed = 0;
  let next = 0;
  const seeker = async (id: number) => {
    while (next < run.jobs) {
      next++;
      const t0 = performance.now();
      if (!(await oneJob(base, chain, id, run.read))) failed++;
      latencies.push(performance.now() - t0);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: run.seekers }, (_, i) => seeker(i)));
  const seconds = (performance.now() - started) / 1000;
  for (const w of workers) w.close();
  latencies.sort((a, b) => a - b);
  return { jobsPerSec: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), failed };
}

/** p50 of `n` sequential round trips to `path`. */
async function floor(base: string, path: string, n: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await (await fetch(`${base}${path}`)).text();
    samples.push(performance.now() - t);
  }
  return percentile(
    samples.sort((a, b) => a - b),
    50,
  );
}

const round = (n: number, digits = 1) => Number(n.toFixed(digits));

async function benchRuntime(name: string, coordinator: DevCoordinator, runs: Run[]): Promise<void> {
  const base = coordinator.url;
  // Warm up: the first requests compile the Worker and create the Durable Objects.
  await runOnce(base, { workers: 2, seekers: 2, jobs: 60, read: "long-poll" }, "monad");
  const edge = await floor(base, "/nope", 300);
  const object = await floor(base, "/monad/v1/health", 300);
  console.log(
    `\n${name}: platform floor p50 ${edge.toFixed(2)} ms for a request that never reaches the object (404 in the Hono app), ${object.toFixed(2)} ms for one that does (GET /v1/health)`,
  );
  const rows = [];
  for (const run of runs) {
    const r = await runOnce(base, run, "monad");
    rows.push({
      "workers x seekers": `${run.workers} x ${run.seekers}`,
      read: run.read,
      jobs: run.jobs,
      failed: r.failed,
      "jobs/s": round(r.jobsPerSec),
      "p50 ms": round(r.p50),
      "p99 ms": round(r.p99),
      "p50 / object floor": round(r.p50 / object, 2),
      "p99 / p50": round(r.p99 / r.p50, 2),
    });
  }
  console.table(rows);
  const mem = await coordinator.memory();
  if (mem !== null) console.log(`${name}: workerd resident memory after the runs ${(mem / 1024 / 1024).toFixed(0)} MB`);
}

export async function coordinatorBench(
  quick: boolean,
  runtimes: readonly ("workerd" | "wrangler")[] = ["workerd", "wrangler"],
): Promise<void> {
  const runs: Run[] = quick
    ? [
        { workers: 1, seekers: 1, jobs: 100, read: "long-poll" },
        { workers: 1, seekers: 1, jobs: 100, read: "commit-wait" },
        { workers: 8, seekers: 8, jobs: 400, read: "long-poll" },
      ]
    : [
        { workers: 1, seekers: 1, jobs: 300, read: "poll" },
        { workers: 1, seekers: 1, jobs: 300, read: "long-poll" },
        { workers: 1, seekers: 1, jobs: 300, read: "commit-wait" },
        { workers: 8, seekers: 8, jobs: 1500, read: "long-poll" },
        { workers: 8, seekers: 32, jobs: 2000, read: "long-poll" },
        { workers: 32, seekers: 64, jobs: 3000, read: "long-poll" },
        { workers: 8, seekers: 32, jobs: 2000, read: "commit-wait" },
      ];
  for (const runtime of runtimes) {
    const coordinator = runtime === "workerd" ? await startWorkerdCoordinator() : await startCoordinator();
    try {
      await benchRuntime(runtime === "workerd" ? "workerd (the built bundle, no dev proxy)" : "wrangler dev", coordinator, runs);
    } finally {
      await coordinator.stop();
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const only = process.argv.find((a) => a.startsWith("--runtime="))?.slice(10);
  await coordinatorBench(process.argv.includes("--quick"), only === "workerd" || only === "wrangler" ? [only] : undefined);
}
