// Scale of one chain object: 1,000 / 5,000 / 10,000 connected workers (many simulated workers per
// process, each a real WebSocket with a signed register, heartbeating every 10 s as real workers
// do), against the built bundle on workerd. Reports the object's memory, dispatch latency p50/p99
// at a steady job rate, and the highest job rate it sustained.
import { startWorkerdCoordinator } from "../scripts/workerd-coordinator.ts";
import { percentile } from "./coordinator-load.ts";
import { SimWorker } from "./sim-worker.ts";

const CHAIN = "monad";
const HEARTBEAT_MS = 10_000;

/** Each simulated worker is a distinct machine: its own client address (the edge's header). */
const address = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

async function connectAll(base: string, n: number): Promise<SimWorker[]> {
  const workers: SimWorker[] = [];
  let next = 0;
  // A few handshakes at a time: every register is signed and checked, as in production.
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < n) {
        const i = next++;
        const w = new SimWorker();
        await w.connect(base, CHAIN, "SEEKER", { slots: 1 }, { headers: { "cf-connecting-ip": address(i) } }).catch((err: Error) => {
          throw new Error(`worker ${i + 1} of ${n} could not connect (${workers.length} connected): ${err.message}`);
        });
        w.heartbeatEvery(HEARTBEAT_MS);
        workers.push(w);
        if (workers.length % 1_000 === 0) console.error(`  ${workers.length} of ${n} workers connected`);
      }
    }),
  );
  return workers;
}

/** Jobs at `rate` per second for `seconds`, each committed with `?wait=` (one round trip): seeker-observed latency. */
async function steady(base: string, rate: number, seconds: number): Promise<{ done: number; failed: number; lat: number[] }> {
  const lat: number[] = [];
  let failed = 0;
  const pending: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < rate * seconds; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      (async () => {
        const t0 = performance.now();
        const res = await fetch(`${base}/${CHAIN}/v1/jobs/commit/cheap?wait=30`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ job_type: "TASK", user_id: `scale-${i % 50}`, payload: { task_type: "summarize", input: "Scale." } }),
        });
        const job = (await res.json()) as { status?: string };
        if (res.status !== 200 || job.status !== "completed") failed++;
        lat.push(performance.now() - t0);
      })(),
    );
  }
  await Promise.all(pending);
  return { done: lat.length, failed, lat: lat.sort((a, b) => a - b) };
}

/** The highest rate (of those tried) at which every job completed and p99 stayed under 1 s. */
async function ceiling(base: string): Promise<number> {
  let best = 0;
  for (const rate of [25, 50, 100, 150, 200, 300]) {
    const r = await steady(base, rate, 6);
    if (r.failed > 0 || percentile(r.lat, 99) > 1_000) break;
    best = rate;
  }
  return best;
}

export async function scaleBench(quick: boolean, only?: number[]): Promise<void> {
  const sizes = only ?? (quick ? [1_000] : [1_000, 5_000, 10_000]);
  const coordinator = await startWorkerdCoordinator({ vars: { MAX_SOCKETS: "32000", MAX_SOCKETS_PER_ADDRESS: "64" } });
  const rows = [];
  const all: SimWorker[] = [];
  try {
    const base = coordinator.url;
    const idle = await coordinator.memory();
    for (const n of sizes) {
      const t0 = performance.now();
      all.push(...(await connectAll(base, n - all.length)));
      const connectS = (performance.now() - t0) / 1000;
      const health = (await (await fetch(`${base}/${CHAIN}/v1/health`)).json()) as { workers_online: number };
      const mem = await coordinator.memory();
      const r = await steady(base, 20, quick ? 5 : 10);
      const max = quick ? Number.NaN : await ceiling(base);
      rows.push({
        workers: health.workers_online,
        "connect s": Number(connectS.toFixed(1)),
        "workerd RSS MB": mem === null ? "n/a" : Math.round(mem / 1024 / 1024),
        "per worker KB": mem === null || idle === null ? "n/a" : Math.round((mem - idle) / 1024 / health.workers_online),
        "20 jobs/s p50 ms": Number(percentile(r.lat, 50).toFixed(1)),
        "20 jobs/s p99 ms": Number(percentile(r.lat, 99).toFixed(1)),
        failed: r.failed,
        "max sustained jobs/s": max,
      });
      console.log(JSON.stringify(rows.at(-1)));
    }
    console.log(`workerd alone, before any worker: ${idle === null ? "n/a" : Math.round(idle / 1024 / 1024)} MB`);
    console.table(rows);
  } catch (err) {
    // Say what workerd said: a failure at scale is usually a limit of the runtime or the machine.
    console.error(`workerd's last words:\n${coordinator.output().slice(-3_000)}`);
    throw err;
  } finally {
    for (const w of all) w.close();
    await coordinator.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // `--sizes=10000` measures one size alone (each size adds to the workers already connected).
  const sizes = process.argv
    .find((a) => a.startsWith("--sizes="))
    ?.slice(8)
    .split(",")
    .map(Number);
  await scaleBench(process.argv.includes("--quick"), sizes);
}
