import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair } from "../protocol/index.ts";
import { type DevCoordinator, startCoordinator } from "../scripts/dev-coordinator.ts";
import { startWorker, type WorkerProcess } from "../test/support/worker-process.ts";
import { ComputeRouter } from "./router.ts";

let coordinator: DevCoordinator;
let worker: WorkerProcess;
let home: string;

// The whole path as users run it: SDK -> coordinator (workerd) -> worker-node process, TASK only.
describe("with a real worker-node process", () => {
  beforeAll(async () => {
    coordinator = await startCoordinator();
    home = await mkdtemp(join(tmpdir(), "dispatch-worker-node-"));
    worker = await startWorker(
      ["--coordinator", coordinator.url, "--chain", "monad", "--type", "seeker", "--key", join(home, "key.json")],
      {
        HOME: home,
      },
    );
    const router = new ComputeRouter({ coordinators: { monad: `${coordinator.url}/monad` } });
    const deadline = Date.now() + 45_000;
    while ((await router.health()).workers_online < 1) {
      if (Date.now() > deadline || worker.proc.exitCode !== null) throw new Error(`worker-node did not come online:\n${worker.stderr()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 120_000);
  afterAll(async () => {
    if (worker && worker.proc.exitCode === null) {
      worker.proc.kill("SIGTERM");
      await worker.exited;
    }
    await coordinator?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it("verifies the receipts of real summarize and classify runs", async () => {
    const router = new ComputeRouter({ coordinators: { monad: `${coordinator.url}/monad` } });
    const summary = await router.runTask({
      task_type: "summarize",
      input: "The cat sat on the mat. Dogs bark loudly at night. The cat was happy on the mat all day.",
      max_sentences: 1,
    });
    expect(summary.route).toBe("dispatch:monad");
    expect(summary.output).toMatchObject({ summary: expect.any(String), selected_count: 1 });
    expect(summary.receipt?.provider_pubkey).toBe(worker.pubkey);
    const sentiment = await router.runTask({ task_type: "classify", input: "I love this, it is wonderful!" });
    expect(sentiment.output).toMatchObject({ label: "positive" });
  });

  it("runs a PRIVATE task on the worker the seeker paired with", async () => {
    const router = new ComputeRouter({ coordinators: { monad: `${coordinator.url}/monad` }, identity: generateKeyPair() });
    const { pairing_code } = await router.trust.create();
    // The reference HTTP claim, as a worker without our socket claim would make it.
    const claim = await fetch(`${coordinator.url}/monad/v1/trust/claim`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ pairing_code, provider_pubkey: worker.pubkey }),
    });
    expect(claim.status).toBe(200);
    const result = await router.runTask({ task_type: "extract_json", input: 'order: {"id": 7, "qty": 2}', privacy: "PRIVATE" });
    expect(result.output).toMatchObject({ objects: [{ id: 7, qty: 2 }] });
    expect(result.receipt?.provider_pubkey).toBe(worker.pubkey);
  });
});
