import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHAINS, type Chain } from "../protocol/index.ts";
import type { ScenarioResult } from "../scripts/demo-scenarios.ts";
import { type DevCoordinator, freePort, startCoordinator } from "../scripts/dev-coordinator.ts";
import { loadIdentity } from "../sdk/identity-file.ts";
import { ComputeRouter } from "../sdk/index.ts";
import { runScript } from "./support/run-script.ts";
import { startWorker, type WorkerProcess } from "./support/worker-process.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DEMO = path.join(repoRoot, "scripts", "demo.ts");
const GGUF = path.resolve(repoRoot, "../shared/models/stories260K-f16.gguf");

interface DemoJson {
  ok: boolean;
  coordinator: string;
  network: "started" | "existing";
  seeker: string;
  chains: Chain[];
  passed: number;
  total: number;
  results: ScenarioResult[];
}

function runDemo(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runScript(DEMO, args, { cwd: repoRoot });
}

let coordinator: DevCoordinator;
let home: string;
const workers = new Map<string, WorkerProcess>();
const pubkeyOf = (chain: Chain, type: "desktop" | "seeker"): string => workers.get(`${chain}/${type}`)?.pubkey ?? "";

// The demo as users run it, a real process against a real network: the coordinator under
// wrangler dev and, per chain, a desktop worker (embedded GGUF LLM) and a seeker worker.
describe("npm run demo", () => {
  beforeAll(async () => {
    // The model ships in ../shared; without it the LLM scenario cannot run, and that is a failure.
    expect(existsSync(GGUF), `missing ${GGUF}`).toBe(true);
    coordinator = await startCoordinator();
    home = await mkdtemp(path.join(tmpdir(), "dispatch-demo-test-"));
    await Promise.all(
      CHAINS.flatMap((chain) =>
        (["desktop", "seeker"] as const).map(async (type) => {
          const args = [
            "--coordinator",
            coordinator.url,
            "--chain",
            chain,
            "--type",
            type,
            "--key",
            path.join(home, `${chain}-${type}.json`),
          ];
          if (type === "desktop") args.push("--llm-backend", "embedded", "--gguf", GGUF);
          const worker = await startWorker(args);
          workers.set(`${chain}/${type}`, worker);
          await worker.waitFor((l) => l.msg === "registered", 45_000);
        }),
      ),
    );
  }, 90_000);

  afterAll(async () => {
    await Promise.all(
      [...workers.values()].map(async (w) => {
        if (w.proc.exitCode === null) w.proc.kill("SIGTERM");
        await w.exited;
      }),
    );
    await coordinator?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it("runs all three scenarios on both chains and reports real, verified results as JSON", async () => {
    const identityFile = path.join(home, "seeker.json");
    const run = await runDemo(["--coordinator", coordinator.url, "--json", "--identity", identityFile]);
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as DemoJson;
    expect(doc).toMatchObject({
      ok: true,
      network: "existing",
      coordinator: coordinator.url,
      chains: ["monad", "solana"],
      passed: 6,
      total: 6,
    });
    const seeker = await loadIdentity(identityFile);
    expect(doc.seeker).toBe(seeker.publicKey);

    for (const chain of CHAINS) {
      const of = (scenario: ScenarioResult["scenario"]): ScenarioResult => {
        const r = doc.results.find((x) => x.chain === chain && x.scenario === scenario);
        if (!r) throw new Error(`no ${scenario} result for ${chain}`);
        expect(r, JSON.stringify(r.error)).toMatchObject({ ok: true, route: `dispatch:${chain}`, receipt_verified: true, error: null });
        expect(r.job_id).toEqual(expect.any(String));
        expect(r.latency_ms).toBeGreaterThan(0);
        return r;
      };

      // (a) The embedded model really generated text, and the desktop worker signed it.
      const llm = of("llm_summary");
      expect(llm).toMatchObject({ policy: "FAST", price: "$0.010", provider_pubkey: pubkeyOf(chain, "desktop") });
      expect(llm.output).toMatchObject({ backend: "embedded", text: expect.stringMatching(/\S/) });
      expect(llm.display).toBe((llm.output as { text: string }).text.trim());
      // Its tokens reached the seeker live over SSE, all of them: a stream that opens after the
      // first tokens (or after the job finished) gets the ones it missed replayed first.
      expect(llm.details.streamed_events).toBeGreaterThan(0);
      expect(llm.details.streamed_chars).toBe((llm.output as { text: string }).text.length);

      // (b) An extractive summary: its sentences are the input's own, in order.
      const pub = of("public_task");
      expect(pub).toMatchObject({ policy: "CHEAP", privacy: "PUBLIC", price: "$0.001" });
      expect([pubkeyOf(chain, "desktop"), pubkeyOf(chain, "seeker")]).toContain(pub.provider_pubkey);
      const input = String(pub.details.input);
      const summary = pub.output as { summary: string; sentences: { text: string; index: number }[]; sentence_count: number };
      expect(summary.sentence_count).toBeGreaterThanOrEqual(4);
      expect(summary.sentences).toHaveLength(2);
      for (const s of summary.sentences) expect(input).toContain(s.text);
      expect(summary.summary).toBe(summary.sentences.map((s) => s.text).join(" "));
      expect(summary.sentences[0]?.index).toBeLessThan(summary.sentences[1]?.index ?? 0);

      // (c) PRIVATE: only the worker paired for it (none of ours) ran it, and the label is one offered.
      const priv = of("private_task");
      expect(priv.privacy).toBe("PRIVATE");
      const labels = priv.details.labels as string[];
      expect(labels).toContain((priv.output as { label: string }).label);
      expect((priv.output as { label: string }).label).toBe("billing");
      expect(priv.provider_pubkey).toBe(priv.details.paired_worker);
      expect([...workers.values()].map((w) => w.pubkey)).not.toContain(priv.provider_pubkey);
      expect(priv.details.revoked).toBe(true);

      // The receipts verify again here, independently of the demo, PRIVATE ones for their owner only.
      const router = new ComputeRouter({ coordinators: { [chain]: `${coordinator.url}/${chain}` }, identity: seeker });
      for (const r of [llm, pub, priv]) {
        const view = await router.status({ job_id: r.job_id ?? "", chain, privacy: r.privacy });
        expect(() => router.verify(view, r.job_id ?? "")).not.toThrow();
        expect(view.receipt?.provider_pubkey).toBe(r.provider_pubkey);
      }
      expect((await router.trust.list({ chain })).providers).toEqual([]);
    }
  }, 60_000);

  it("starts a network of its own when asked, prints a readable report, and stops what it started", async () => {
    const run = await runDemo(["--own-network", "--identity", path.join(home, "seeker.json")]);
    expect(run.code, run.stderr).toBe(0);
    const started = /coordinator\s+(http:\/\/127\.0\.0\.1:\d+)\s+\(started by the demo/.exec(run.stdout)?.[1];
    expect(started).toBeDefined();
    expect(started).not.toBe(coordinator.url);
    for (const chain of CHAINS) expect(run.stdout).toContain(`━━ ${chain} `);
    expect(run.stdout.match(/receipt\s+verified ✓/g)).toHaveLength(6);
    expect(run.stdout.match(/streamed\s+\d+ SSE token events? \(all \d+ characters\)/g)).toHaveLength(2);
    expect(run.stdout).toMatch(/label\s+billing/);
    expect(run.stdout).toContain("All 6 scenarios passed on monad and solana");
    // Its coordinator is gone once the demo has exited.
    await expect(fetch(`${started}/monad/v1/health`, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
  }, 60_000);

  it("exits 1 with a clear message when the given coordinator does not answer", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const run = await runDemo(["--coordinator", url, "--json"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(`no Dispatch coordinator answers at ${url}`);
    expect(run.stderr).toContain("npm start");
  });
});
