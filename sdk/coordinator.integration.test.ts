import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair } from "../protocol/index.ts";
import { type DevCoordinator, startCoordinator } from "../scripts/dev-coordinator.ts";
import { runScript } from "../test/support/run-script.ts";
import { ComputeRouter } from "./router.ts";
import { type ScriptedWorker, startScriptedWorker } from "./test-support/scripted-worker.ts";

let coordinator: DevCoordinator;
let worker: ScriptedWorker;
const identity = generateKeyPair();

function router(extra: Partial<ConstructorParameters<typeof ComputeRouter>[0]> = {}) {
  return new ComputeRouter({
    coordinators: { monad: `${coordinator.url}/monad`, solana: `${coordinator.url}/solana` },
    chainPreference: "monad",
    identity,
    ...extra,
  });
}

describe("against the real coordinator (wrangler dev)", () => {
  beforeAll(async () => {
    coordinator = await startCoordinator();
    worker = await startScriptedWorker(`${coordinator.url}/monad`);
  }, 90_000);
  afterAll(async () => {
    await worker?.close();
    await coordinator?.stop();
  });

  it("reads health and a quote in the protocol's shapes", async () => {
    const r = router();
    const health = await r.health();
    expect(health.workers_online).toBeGreaterThanOrEqual(1);
    const quote = await r.quote({ job_type: "LLM_INFER" });
    expect(quote).toMatchObject({ price: "$0.010", policy_resolved: "FAST", chain: "monad" });
  });

  it("runs a PUBLIC task end to end and verifies the worker's receipt", async () => {
    const result = await router().runTask({ task_type: "summarize", input: "First sentence. Second one." });
    expect(result.route).toBe("dispatch:monad");
    expect(result.output).toEqual({ summary: "First sentence." });
    expect(result.receipt?.provider_pubkey).toBe(worker.key.publicKey);
    // The stored job verifies again later, as `dispatch receipt verify` does.
    const view = await router().status(result.job_id ?? "");
    expect(() => router().verify(view, result.job_id ?? "")).not.toThrow();
  });

  it("streams LLM tokens over SSE and returns the verified text", async () => {
    const tokens: string[] = [];
    const result = await router().runLLM({ prompt: "Once upon a time there was a fox", onToken: (t) => tokens.push(t) });
    expect(result.text).toBe("Once upon a time there was a fox");
    expect(tokens.join("")).toBe("Once upon a time there was a fox");
    expect(tokens.length).toBeGreaterThan(1);
  });

  it("returns the same job for a repeated Idempotency-Key", async () => {
    const r = router();
    const req = { job_type: "TASK", payload: { task_type: "summarize", input: "Same. Job." }, idempotencyKey: `k-${Date.now()}` } as const;
    const first = await r.submit(req);
    const second = await r.submit(req);
    expect(second.job_id).toBe(first.job_id);
    await r.wait(first);
  });

  it("routes PRIVATE jobs only after pairing, and stops after revoking", async () => {
    const r = router();
    await expect(r.runTask({ task_type: "summarize", input: "Secret. Text.", privacy: "PRIVATE" })).rejects.toMatchObject({
      code: "no_trusted_worker",
      status: 422,
    });
    const { pairing_code } = await r.trust.create();
    expect(await worker.claim(pairing_code)).toBe(identity.publicKey);
    expect((await r.trust.list()).providers.map((p) => p.provider_pubkey)).toContain(worker.key.publicKey);

    const result = await r.runTask({ task_type: "summarize", input: "Secret. Text.", privacy: "PRIVATE" });
    expect(result.receipt?.provider_pubkey).toBe(worker.key.publicKey);
    // A PRIVATE job is readable by its owner's signed request only.
    const monad = { monad: `${coordinator.url}/monad` };
    const stranger = new ComputeRouter({ coordinators: monad, identity: generateKeyPair() });
    await expect(stranger.status(result.job_id ?? "")).rejects.toMatchObject({ code: "forbidden", status: 403 });
    const anonymous = new ComputeRouter({ coordinators: monad });
    await expect(anonymous.status(result.job_id ?? "")).rejects.toMatchObject({ code: "signature_required", status: 401 });

    await r.trust.revoke(worker.key.publicKey);
    expect((await r.trust.list()).providers).toEqual([]);
    await expect(r.runTask({ task_type: "summarize", input: "Secret. Again.", privacy: "PRIVATE" })).rejects.toMatchObject({
      code: "no_trusted_worker",
    });
  });

  it("runs the CLI against it: run task --json, then receipt verify", async () => {
    const home = await mkdtemp(join(tmpdir(), "dispatch-cli-int-"));
    const cli = (args: string[]) =>
      runScript(fileURLToPath(new URL("./cli.ts", import.meta.url)), args, {
        env: { PATH: process.env.PATH ?? "", HOME: home, XDG_CONFIG_HOME: home, DISPATCH_COORDINATOR: coordinator.url },
      });
    try {
      const run = await cli(["run", "task", "summarize", "Alpha beta. Gamma.", "--json", "--chain", "monad"]);
      expect(run.code, run.stderr).toBe(0);
      const result = JSON.parse(run.stdout);
      expect(result.output).toEqual({ summary: "Alpha beta." });
      const verify = await cli(["receipt", "verify", result.job_id, "--chain", "monad"]);
      expect(verify.code, verify.stderr).toBe(0);
      expect(verify.stdout).toMatch(new RegExp(worker.key.publicKey));
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
