// Where one job's time goes (issue 12's profile): 1 worker, 1 seeker, `commit?wait=` on workerd
// with no dev proxy. The worker stamps when the assign arrived and when its answer left, which
// splits the seeker's round trip into: in (HTTP, commit, matching, assign frame), the worker
// (building and signing the receipt), and out (completion frame, receipt check, storage, the held
// commit answered). `node bench/job-path.ts [--jobs=N]`.
import { startWorkerdCoordinator } from "../scripts/workerd-coordinator.ts";
import { percentile } from "./coordinator-load.ts";
import { SimWorker } from "./sim-worker.ts";

const CHAIN = "monad";

async function floor(url: string, n: number): Promise<number> {
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await (await fetch(url)).arrayBuffer();
    lat.push(performance.now() - t0);
  }
  return percentile(
    lat.sort((a, b) => a - b),
    50,
  );
}

export async function jobPathBench(jobs: number): Promise<void> {
  const coordinator = await startWorkerdCoordinator();
  const worker = new SimWorker();
  try {
    const base = coordinator.url;
    await worker.connect(base, CHAIN, "SEEKER", { slots: 1 });
    worker.times = new Map();
    const segments = { total: [] as number[], in: [] as number[], worker: [] as number[], out: [] as number[] };
    for (let i = 0; i < jobs + 50; i++) {
      const t0 = performance.now();
      const res = await fetch(`${base}/${CHAIN}/v1/jobs/commit/cheap?wait=30`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ job_type: "TASK", user_id: "path", payload: { task_type: "summarize", input: "One job." } }),
      });
      const job = (await res.json()) as { id: string; status: string };
      const t1 = performance.now();
      const at = worker.times.get(job.id);
      if (job.status !== "completed" || !at) throw new Error(`job ${job.id} ended ${job.status}`);
      if (i < 50) continue; // warm-up
      segments.total.push(t1 - t0);
      segments.in.push(at.assigned - t0);
      segments.worker.push(at.answered - at.assigned);
      segments.out.push(t1 - at.answered);
    }
    const health = await floor(`${base}/${CHAIN}/v1/health`, 300);
    const edge = await floor(`${base}/${CHAIN}/v1/nowhere`, 300);
    const row = (name: string, xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      return { stage: name, "p50 ms": Number(percentile(sorted, 50).toFixed(2)), "p99 ms": Number(percentile(sorted, 99).toFixed(2)) };
    };
    console.table([
      row("seeker round trip (commit?wait)", segments.total),
      row("in: HTTP + commit + match + assign frame", segments.in),
      row("worker: receipt built and signed", segments.worker),
      row("out: completion frame + checks + answer", segments.out),
    ]);
    console.log(`floor: request that never reaches the object ${edge.toFixed(2)} ms, one that does (health) ${health.toFixed(2)} ms`);
    console.log(
      `ratio to the object floor: ${(
        percentile(
          [...segments.total].sort((a, b) => a - b),
          50,
        ) / health
      ).toFixed(2)}x`,
    );
  } finally {
    worker.close();
    await coordinator.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = process.argv.find((a) => a.startsWith("--jobs="));
  await jobPathBench(arg ? Number(arg.slice(7)) : 500);
}
