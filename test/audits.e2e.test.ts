// Spot-check audits with real worker processes: the coordinator under `wrangler dev` re-runs every
// TASK job (AUDIT_SAMPLE_PERCENT=100) on a second worker with the same engine. Two worker-node
// processes must agree byte for byte on every task type; a worker that signs a different output
// for the same engine is outvoted by them.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimWorker } from "../bench/sim-worker.ts";
import { type JobView, TASK_ENGINE_VERSION, type WorkersResponse } from "../protocol/index.ts";
import { type DevCoordinator, startCoordinator } from "../scripts/dev-coordinator.ts";
import { startWorker, type WorkerProcess } from "./support/worker-process.ts";

let coordinator: DevCoordinator;
let home: string;
let workers: WorkerProcess[] = [];

beforeAll(async () => {
  [coordinator, home] = await Promise.all([
    startCoordinator({ vars: { AUDIT_SAMPLE_PERCENT: "100" } }),
    mkdtemp(path.join(os.tmpdir(), "dispatch-audits-")),
  ]);
  const start = (name: string) =>
    startWorker([
      ...["--coordinator", coordinator.url, "--chain", "monad", "--key", path.join(home, `${name}.json`)],
      ...["--type", "desktop", "--llm-backend", "none"],
    ]);
  workers = await Promise.all([start("a"), start("b")]);
  await Promise.all(workers.map((w) => w.waitFor((l) => l.msg === "registered")));
}, 90_000);

afterAll(async () => {
  for (const w of workers) {
    if (w.proc.exitCode === null) w.proc.kill("SIGTERM");
    await w.exited;
  }
  await coordinator?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

async function commitTask(payload: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${coordinator.url}/monad/v1/jobs/commit/cheap`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ job_type: "TASK", user_id: "audit-e2e", payload }),
  });
  const body = (await res.json()) as { job_id?: string };
  expect(res.status, JSON.stringify(body)).toBe(201);
  return String(body.job_id);
}

/** Polls the job until its audit reaches a verdict (`agreed`, or a decided dispute). */
async function audited(jobId: string, timeoutMs = 20_000): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = (await (await fetch(`${coordinator.url}/monad/v1/jobs/${jobId}?wait=2`)).json()) as JobView;
    const audit = job.audit;
    if (audit?.state === "agreed" || (audit?.state === "disputed" && audit.upheld !== null)) return job;
    if (Date.now() > deadline) throw new Error(`no audit verdict for ${jobId}: ${JSON.stringify(job.audit)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const PAYLOADS: Record<string, unknown>[] = [
  {
    task_type: "summarize",
    input: "Solar panels got cheaper. Installations doubled this year. Grid operators are adapting.",
    max_sentences: 2,
  },
  {
    task_type: "classify",
    input: "The battery died after two days and support never answered.",
    labels: ["hardware", "support", "pricing"],
  },
  { task_type: "classify", input: "Absolutely love it, best purchase this year." },
  { task_type: "extract_json", input: 'The order was {"id": 7, "items": ["a", "b"],} and then {broken' },
];

describe("spot-check audits with worker processes", () => {
  it("two honest workers agree byte for byte on every task type", async () => {
    const keys = new Set(workers.map((w) => w.pubkey));
    for (const payload of PAYLOADS) {
      const jobId = await commitTask(payload);
      const job = await audited(jobId);
      expect(job.audit, JSON.stringify(payload)).toMatchObject({ state: "agreed", match: true });
      const original = job.receipt?.provider_pubkey ?? "";
      expect(keys.has(original)).toBe(true);
      // The other process audited it.
      expect(job.audit?.auditor).not.toBe(original);
      expect(keys.has(job.audit?.auditor ?? "")).toBe(true);
    }
  });

  it("outvotes a worker that signs a different output under the same engine", async () => {
    // A SEEKER-type worker wins CHEAP TASKs over the DESKTOP processes, so it gets the job.
    const cheat = new SimWorker();
    await cheat.connect(coordinator.url, "monad", "SEEKER", { task_engine: TASK_ENGINE_VERSION });
    try {
      const jobId = await commitTask({ task_type: "summarize", input: "The river flooded the valley. Farmers moved their herds uphill." });
      const job = await audited(jobId);
      expect(job.receipt?.provider_pubkey).toBe(cheat.key.publicKey);
      expect(job.audit).toMatchObject({ state: "disputed", match: false, upheld: false });
      expect(new Set([job.audit?.auditor, job.audit?.referee])).toEqual(new Set(workers.map((w) => w.pubkey)));
      // The seeker still has what it was delivered; the cheat carries the failure.
      expect(job.result).toEqual({ summary: "The river flooded the valley. Farmers mo" });
      const listed = (await (await fetch(`${coordinator.url}/monad/v1/workers`)).json()) as WorkersResponse;
      expect(listed.workers.find((w) => w.provider_pubkey === cheat.key.publicKey)?.failures).toBe(1);
    } finally {
      cheat.close();
    }
  });
});
