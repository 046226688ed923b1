// Load benchmark: N simulated workers over real WebSockets, M concurrent seekers that commit
// and long-poll, against the coordinator under `wrangler dev`. Prints jobs/s and the latency a
// seeker sees from commit to result (p50/p99), and the in-coordinator share of it.
import { startCoordinator } from "../scripts/dev-coordinator.ts";
import { SimWorker } from "./sim-worker.ts";

interface Run {
  workers: number;
  seekers: number;
  jobs: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const v = await fn();
  return [v, performance.now() - t];
}

async function runOnce(base: string, run: Run, chain: string): Promise<Record<string, string | number>> {
  const workers = Array.from({ length: run.workers }, () => new SimWorker());
  await Promise.all(workers.map((w) => w.connect(base, chain)));
  const latencies: number[] = [];
  // Inside the coordinator: created_at -> completed_at as the Durable Object stamped them
  // (matching, the WebSocket round trip to the worker, receipt verification, storage).
  const inside: number[] = [];
  let failed = 0;
  let next = 0;
  const seeker = async (id: number) => {
    while (next < run.jobs) {
      next++;
      const t0 = performance.now();
      const [commit] = await timed(() =>
        fetch(`${base}/${chain}/v1/jobs/commit/cheap`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            job_type: "TASK",
            user_id: `bench-${id}`,
            payload: { task_type: "summarize", input: "Benchmarks measure the coordinator." },
          }),
        }),
      );
      const { job_id } = (await commit.json()) as { job_id: string };
      const res = await fetch(`${base}/${chain}/v1/jobs/${job_id}?wait=30`);
      const job = (await res.json()) as { status: string; created_at: string; completed_at: string | null };
      if (job.status !== "completed") failed++;
      latencies.push(performance.now() - t0);
      if (job.completed_at) inside.push(Date.parse(job.completed_at) - Date.parse(job.created_at));
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: run.seekers }, (_, i) => seeker(i)));
  const seconds = (performance.now() - started) / 1000;
  for (const w of workers) w.close();
  latencies.sort((a, b) => a - b);
  inside.sort((a, b) => a - b);
  return {
    workers: run.workers,
    seekers: run.seekers,
    jobs: latencies.length,
    failed,
    "jobs/s": Math.round(latencies.length / seconds),
    "p50 ms": Number(percentile(latencies, 50).toFixed(1)),
    "p99 ms": Number(percentile(latencies, 99).toFixed(1)),
    "in-DO p50 ms": percentile(inside, 50),
    "in-DO p99 ms": percentile(inside, 99),
  };
}

/** Round trip of a trivial request through the same stack: the floor under every figure above. */
async function baseline(base: string): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 200; i++) {
    const [, ms] = await timed(async () => (await fetch(`${base}/monad/v1/health`)).text());
    samples.push(ms);
  }
  samples.sort((a, b) => a - b);
  return percentile(samples, 50);
}

export async function coordinatorBench(quick: boolean): Promise<void> {
  const coordinator = await startCoordinator();
  try {
    const base = coordinator.url;
    // Warm up: the first requests compile the Worker and create the Durable Objects.
    await runOnce(base, { workers: 1, seekers: 1, jobs: 20 }, "monad");
    const floor = await baseline(base);
    console.log(
      `health round trip through wrangler dev, p50: ${floor.toFixed(2)} ms (two of these per job are HTTP cost, not coordinator work)`,
    );
    const runs: Run[] = quick
      ? [
          { workers: 1, seekers: 1, jobs: 100 },
          { workers: 8, seekers: 8, jobs: 400 },
        ]
      : [
          { workers: 1, seekers: 1, jobs: 300 },
          { workers: 4, seekers: 4, jobs: 800 },
          { workers: 16, seekers: 16, jobs: 1500 },
          { workers: 32, seekers: 64, jobs: 2000 },
        ];
    const rows = [];
    for (const run of runs) rows.push(await runOnce(base, run, "monad"));
    console.table(rows);
  } finally {
    await coordinator.stop();
  }
}
