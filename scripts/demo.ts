// `npm run demo`: the three Dispatch scenarios on both chains, through the seeker SDK.
//   (a) LLM summarization at FAST (runLLM, streamed tokens)
//   (b) a PUBLIC summarize TASK at CHEAP
//   (c) a PRIVATE classify TASK, after pairing the seeker with a worker it starts for the purpose
// Uses a running network (`npm start`) when one answers, else starts its own and stops it after.
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { localPayoutAddress } from "../chains/local-payouts.ts";
import { CHAINS, type Chain, type HealthResponse } from "../protocol/index.ts";
import { loadOrCreateIdentity } from "../sdk/identity-file.ts";
import { ComputeRouter } from "../sdk/index.ts";
import { earningsReport } from "./demo-earnings.ts";
import { coordinatorAnswers, startWorker, type WorkerChild } from "./demo-network.ts";
import { localPaymentClient } from "./demo-payments.ts";
import { chainHeader, scenarioBlock, shortKey, summaryTable } from "./demo-report.ts";
import { llmSummary, privateTask, publicTask, type ScenarioResult } from "./demo-scenarios.ts";
import { type DevCoordinator, startCoordinator } from "./dev-coordinator.ts";
import { bold, dim } from "./terminal-colors.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DEFAULT_COORDINATOR = "http://127.0.0.1:8787";
const DEFAULT_GGUF = path.resolve(repoRoot, "../shared/models/stories260K-f16.gguf");

const HELP = `npm run demo [-- options]

Runs the three Dispatch scenarios on monad and solana through the seeker SDK:
  (a) LLM summarization at FAST, (b) a PUBLIC summarize TASK at CHEAP,
  (c) a PRIVATE classify TASK after pairing the seeker with a worker.

Options:
  --coordinator URL   a running network (npm start); default ${DEFAULT_COORDINATOR}.
                      Without this flag, when nothing answers there the demo starts its own
                      network (wrangler dev on a free port + a desktop and a seeker worker per
                      chain) and stops it at the end.
  --own-network       always start a fresh network of its own
  --gguf PATH         GGUF model for the desktop workers the demo starts (env DISPATCH_GGUF;
                      default ../shared/models/stories260K-f16.gguf)
  --identity PATH     the seeker's ed25519 key file, created 0600 on first use
                      (default .dispatch/demo/seeker-identity.json)
  --network-file PATH the local network description \`npm start\` writes; its funded seeker
                      keys pay x402 when payments are on (default .dispatch/local-network.json)
  --json              print the results as JSON on stdout (progress goes to stderr)
  -h, --help          this text

Exit code 0 when every scenario passed on both chains, 1 otherwise.
`;

interface Options {
  coordinator: string | undefined;
  ownNetwork: boolean;
  gguf: string;
  identity: string;
  networkFile: string;
  json: boolean;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      coordinator: { type: "string" },
      "own-network": { type: "boolean", default: false },
      gguf: { type: "string", default: process.env.DISPATCH_GGUF ?? DEFAULT_GGUF },
      identity: { type: "string", default: path.join(repoRoot, ".dispatch", "demo", "seeker-identity.json") },
      "network-file": { type: "string", default: path.join(repoRoot, ".dispatch", "local-network.json") },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  return {
    coordinator: values.coordinator?.replace(/\/+$/, ""),
    ownNetwork: values["own-network"],
    gguf: path.resolve(values.gguf),
    identity: path.resolve(values.identity),
    networkFile: path.resolve(values["network-file"]),
    json: values.json,
  };
}

/** Everything the demo started, stopped in reverse order (workers before the coordinator). */
class Processes {
  readonly workers: WorkerChild[] = [];
  coordinator: DevCoordinator | undefined;
  tempDir: string | undefined;

  async stopAll(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.stop()));
    await this.coordinator?.stop();
    this.coordinator = undefined;
    if (this.tempDir) await rm(this.tempDir, { recursive: true, force: true });
    this.tempDir = undefined;
  }
}

async function main(): Promise<number> {
  const opts = parseOptions();
  // In --json mode stdout carries only the JSON document.
  const say = (text: string): void => {
    (opts.json ? process.stderr : process.stdout).write(`${text}\n`);
  };
  let firstProgress = true;
  const progress = (chain: Chain | "network", text: string): void => {
    if (firstProgress) say("");
    firstProgress = false;
    say(dim(`  [${chain.padEnd(7)}] ${text}`));
  };
  const procs = new Processes();
  const onSignal = (): void => {
    void procs.stopAll().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    procs.tempDir = await mkdtemp(path.join(os.tmpdir(), "dispatch-demo-keys-"));
    const keysDir = procs.tempDir;
    // Who signed what: the workers we start, and the keys `npm start` keeps in .dispatch/keys.
    const providers = new Map<string, string>(knownNpmStartKeys());

    say(bold("Dispatch demo: LLM summarization, PUBLIC TASK and PRIVATE TASK on monad and solana"));
    const base = await chooseCoordinator(opts, procs, keysDir, providers, progress);

    const identityFile = opts.identity;
    const { identity, created } = await loadOrCreateIdentity(identityFile);
    const routerOptions = { coordinators: { monad: `${base.url}/monad`, solana: `${base.url}/solana` }, identity };
    const probe = new ComputeRouter(routerOptions);
    const health = await Promise.all(CHAINS.map((chain) => probe.health(chain)));
    // With payments on (as `npm start` runs them), pay from the local network's funded seekers.
    let router = probe;
    if (health.some((h) => h.payments.enabled)) {
      const payer = await localPaymentClient(opts.networkFile);
      if (!payer)
        throw new Error(
          `the coordinator requires x402 payments but ${displayPath(opts.networkFile)} is missing; run \`npm start\` (it writes it) or pass --network-file`,
        );
      router = new ComputeRouter({ ...routerOptions, x402Client: payer.client });
      progress("network", `paying with x402 from ${payer.payers.join(" and ")}`);
    }
    say("");
    say(`  coordinator   ${base.url}  ${dim(base.note)}`);
    say(`  seeker        ${shortKey(identity.publicKey)}  ${dim(`${displayPath(identityFile)}${created ? " (created)" : ""}`)}`);
    for (const [i, chain] of CHAINS.entries()) {
      const h = health[i] as HealthResponse;
      const byType = Object.entries(h.workers_by_type).map(([t, n]) => `${n} ${t.toLowerCase()}`);
      say(`  ${chain.padEnd(14)}${h.network}  ${dim(`workers: ${byType.join(", ") || "none"} · payments ${h.payments.mode}`)}`);
      if (!h.workers_by_type.DESKTOP) {
        say(`  ${"".padEnd(14)}warning: no desktop worker online on ${chain}: the LLM job will wait out the queue deadline and fail`);
      }
    }
    firstProgress = true;

    const startPaired =
      (chain: Chain) =>
      async (pairingCode: string): Promise<WorkerChild> => {
        progress(chain, "trust.create → pairing code; starting a desktop worker with --trust-code");
        // A fresh key, so the pairing is new; TASK only (--llm-backend none), as the PRIVATE job is a TASK.
        const worker = await startWorker(repoRoot, {
          name: `${chain}/paired`,
          coordinator: base.url,
          chain,
          type: "desktop",
          llmBackend: "none",
          keyFile: path.join(keysDir, `${chain}-paired.json`),
          trustCode: pairingCode,
          payoutAddress: await localPayoutAddress(chain, "paired"),
        });
        procs.workers.push(worker);
        providers.set(worker.pubkey, `${chain} paired desktop worker`);
        const line = await worker.waitForLog(["trust pairing claimed", "trust pairing code refused", "registration refused"], 30_000);
        if (line.msg !== "trust pairing claimed") throw new Error(`${worker.name}: ${String(line.msg)}: ${String(line.message)}`);
        progress(chain, `worker ${shortKey(worker.pubkey)} claimed the code; waiting for trust.list`);
        return worker;
      };

    // The chains are independent networks: run them side by side, scenarios in order per chain.
    const perChain = await Promise.all(
      CHAINS.map(async (chain): Promise<ScenarioResult[]> => {
        const results: ScenarioResult[] = [];
        const step = async (name: string, run: () => Promise<ScenarioResult>): Promise<void> => {
          progress(chain, `${name} …`);
          const r = await run();
          progress(chain, `${name}: ${r.ok ? "passed" : `FAILED (${r.error?.code})`}`);
          results.push(r);
        };
        await step("(a) LLM summarization", () => llmSummary(router, chain));
        await step("(b) PUBLIC TASK", () => publicTask(router, chain));
        await step("(c) PRIVATE TASK", () => privateTask(router, chain, startPaired(chain)));
        return results;
      }),
    );
    const results = perChain.flat();
    const passed = results.filter((r) => r.ok).length;
    const ok = passed === results.length;

    if (opts.json) {
      const doc = {
        ok,
        coordinator: base.url,
        network: base.started ? "started" : "existing",
        seeker: identity.publicKey,
        chains: [...CHAINS],
        passed,
        total: results.length,
        results,
      };
      process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    } else {
      for (const chain of CHAINS) {
        say(chainHeader(chain));
        for (const r of results.filter((x) => x.chain === chain)) say(`\n${scenarioBlock(r, providers)}`);
      }
      say(`\n${summaryTable(results)}\n`);
    }
    if (!opts.json) {
      try {
        say(`\n${await earningsReport(base.url, CHAINS, providers)}\n`);
      } catch (err) {
        say(dim(`(worker earnings unavailable: ${err instanceof Error ? err.message : String(err)})`));
      }
    }
    if (ok) say(bold(`All ${results.length} scenarios passed on ${CHAINS.join(" and ")}; every receipt verified.`));
    else {
      const failures = results.filter((r) => !r.ok).map((r) => `  ${r.chain} ${r.title}: ${r.error?.message}${hint(r)}`);
      say(`${passed} of ${results.length} scenarios passed. Failed:\n${failures.join("\n")}`);
    }
    return ok ? 0 : 1;
  } finally {
    if (procs.coordinator || procs.workers.length > 0) progress("network", "stopping the processes the demo started");
    await procs.stopAll();
  }
}

interface ChosenCoordinator {
  url: string;
  started: boolean;
  note: string;
}

/** The given network, the default one if it answers, or one the demo starts (and later stops). */
async function chooseCoordinator(
  opts: Options,
  procs: Processes,
  keysDir: string,
  providers: Map<string, string>,
  progress: (chain: Chain | "network", text: string) => void,
): Promise<ChosenCoordinator> {
  if (!opts.ownNetwork) {
    const url = opts.coordinator ?? DEFAULT_COORDINATOR;
    if (await coordinatorAnswers(url)) return { url, started: false, note: "(running network)" };
    if (opts.coordinator !== undefined) {
      throw new Error(
        `no Dispatch coordinator answers at ${url}/monad/v1/health. Start one with \`npm start\`, or run the demo without --coordinator to let it start its own network.`,
      );
    }
    progress("network", `nothing answers at ${url}; starting a network of our own`);
  }
  progress("network", "starting the coordinator (wrangler dev on a free port) …");
  procs.coordinator = await startCoordinator();
  const url = procs.coordinator.url;
  const gguf = existsSync(opts.gguf) ? opts.gguf : undefined;
  progress("network", `coordinator up at ${url}; starting a desktop and a seeker worker per chain …`);
  const workers = await Promise.all(
    CHAINS.flatMap((chain) =>
      (["desktop", "seeker"] as const).map(async (type) => {
        const worker = await startWorker(repoRoot, {
          name: `${chain}/${type}`,
          coordinator: url,
          chain,
          type,
          keyFile: path.join(keysDir, `${chain}-${type}.json`),
          payoutAddress: await localPayoutAddress(chain, type),
          ...(type === "desktop" && gguf !== undefined && { gguf }),
        });
        procs.workers.push(worker);
        providers.set(worker.pubkey, `${chain} ${type} worker`);
        return worker;
      }),
    ),
  );
  await Promise.all(workers.map((w) => w.waitForLog(["registered"], 60_000)));
  const llm = gguf ? `embedded ${path.basename(gguf)} unless Ollama answers` : "Ollama only (no GGUF found; pass --gguf)";
  return { url, started: true, note: `(started by the demo: wrangler dev + ${workers.length} workers; desktop LLM: ${llm})` };
}

/** What to do about a failed scenario, for the failure list. */
function hint(r: ScenarioResult): string {
  const what = r.scenario === "llm_summary" ? "a desktop worker with an LLM" : "a worker";
  switch (r.error?.code) {
    case "no_eligible_worker":
      return `\n      -> no ${what} was free on ${r.chain}: start the whole network with \`npm start\`, or run the demo without --coordinator`;
    case "network_error":
      return "\n      -> the coordinator stopped answering: is it still running?";
    case "invalid_receipt":
      return "\n      -> the worker's receipt did not verify: the result must not be trusted";
    default:
      return "";
  }
}

function displayPath(file: string): string {
  const relative = path.relative(repoRoot, file);
  return relative.startsWith("..") ? file : relative;
}

/** Public keys of the workers `npm start` runs (.dispatch/keys/<chain>-<type>.json), to name them in the report. */
function knownNpmStartKeys(): [string, string][] {
  const known: [string, string][] = [];
  for (const chain of CHAINS) {
    for (const type of ["desktop", "seeker"]) {
      try {
        const file = path.join(repoRoot, ".dispatch", "keys", `${chain}-${type}.json`);
        const { publicKey } = JSON.parse(readFileSync(file, "utf8")) as { publicKey?: unknown };
        if (typeof publicKey === "string") known.push([publicKey, `${chain} ${type} worker`]);
      } catch {
        // not started by npm start on this machine
      }
    }
  }
  return known;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
