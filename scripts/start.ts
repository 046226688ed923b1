// `npm start`: the whole local network in one command. The local chains (anvil with our
// contracts, LiteSVM with USDC) and the x402 facilitator, the coordinator under `wrangler dev`
// (profile `local`: both chains, payments on, ERC-8004 and anchoring on), then per chain one
// desktop worker (LLM + TASK) and one seeker worker (TASK). It shows one progress line per
// component, then a summary, then only the logs that matter. Ctrl-C stops everything, workers first.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { coordinatorVars } from "../chains/coordinator-vars.ts";
import { type RunningLocalNetwork, startLocalNetwork } from "../chains/local-network.ts";
import { localPayoutAddress } from "../chains/local-payouts.ts";
import type { Chain } from "../protocol/index.ts";
import { ensureWorkerPage } from "./build-worker-page.ts";
import { freePort } from "./dev-coordinator.ts";
import { lines, prefixed, type Step, step, workerLine } from "./start-output.ts";
import { bold, dim, useColor } from "./terminal-colors.ts";
import { WRANGLER_BIN, wranglerEnv } from "./wrangler-env.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    port: { type: "string", default: process.env.DISPATCH_PORT ?? "8787" },
    gguf: { type: "string", default: process.env.DISPATCH_GGUF ?? path.resolve(root, "../shared/models/stories260K-f16.gguf") },
    "no-workers": { type: "boolean", default: false },
    "no-chains": { type: "boolean", default: false },
    "state-dir": { type: "string" },
    verbose: { type: "boolean", short: "v", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log(`npm start [-- options]
  --port N          coordinator port (env DISPATCH_PORT; default 8787)
  --gguf PATH       GGUF model for the embedded LLM backend when no Ollama answers
                    (env DISPATCH_GGUF; default ../shared/models/stories260K-f16.gguf)
  --no-workers      start no workers
  --no-chains       no local chains: payments disabled, no ERC-8004 or anchoring
  --state-dir DIR   worker keys, the local-network file and the coordinator's storage
                    (default .dispatch/, storage in .wrangler/state)
  --verbose, -v     all logs from the start, with wrangler's request log`);
  process.exit(0);
}

const base = `http://127.0.0.1:${values.port}`;
const stateDir = path.resolve(values["state-dir"] ?? path.join(root, ".dispatch"));
const chainsOn = !values["no-chains"];
const verbose = values.verbose;
// Quiet until the summary: start-up chatter is kept for a failure report, then dropped.
let live = verbose;
let stopping = false;
const out = (line: string): void => void process.stdout.write(`${line}\n`);

interface Child {
  name: string;
  proc: ChildProcess;
  /** The last lines it wrote, for a failure report. */
  tail: string[];
}
const children: Child[] = [];

/** Starts a child in its own process group (Ctrl-C reaches only us: we stop children in order). */
function run(name: string, args: string[], env: NodeJS.ProcessEnv, onLine: (line: string) => void): Child {
  const proc = spawn(process.execPath, args, { cwd: root, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const child: Child = { name, proc, tail: [] };
  const collect = (line: string): void => {
    child.tail.push(line);
    if (child.tail.length > 40) child.tail.shift();
    onLine(line);
  };
  lines(proc.stdout, collect);
  lines(proc.stderr, collect);
  proc.on("exit", (code, signal) => {
    if (stopping) return;
    out(prefixed(name, `exited (${code ?? signal}); stopping the network`));
    if (!live) for (const line of child.tail.slice(-15)) out(prefixed(name, line));
    void stop(1);
  });
  children.push(child);
  return child;
}

function signalGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
  try {
    process.kill(-proc.pid, signal);
  } catch {
    // already gone
  }
}

async function stopChildren(list: Child[], graceMs: number): Promise<void> {
  const running = list.filter((c) => c.proc.exitCode === null && c.proc.signalCode === null);
  const exited = running.map((c) => new Promise((r) => c.proc.once("exit", r)));
  for (const c of running) signalGroup(c.proc, "SIGTERM");
  await Promise.race([Promise.all(exited), new Promise((r) => setTimeout(r, graceMs))]);
  for (const c of running) signalGroup(c.proc, "SIGKILL");
}

let chains: RunningLocalNetwork | null = null;

async function stop(code: number): Promise<never> {
  if (stopping) return new Promise<never>(() => {});
  stopping = true;
  live = true;
  out(dim("\nstopping: workers first (they finish in-flight jobs), then the coordinator and the chains"));
  await stopChildren(
    children.filter((c) => c.name !== "coordinator"),
    15_000,
  );
  await stopChildren(
    children.filter((c) => c.name === "coordinator"),
    5_000,
  );
  await chains?.stop();
  out(dim("stopped"));
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
// Children live in their own process groups: never leave them behind, even on a crash.
process.on("exit", () => {
  for (const c of children) signalGroup(c.proc, "SIGKILL");
});

async function fail(s: Step, message: string): Promise<never> {
  s.fail(message);
  return stop(1);
}

out(`${bold("Dispatch local network")} ${dim(`on ${base}${verbose ? " (verbose)" : ""}`)}`);
mkdirSync(stateDir, { recursive: true });

// ---- chains and facilitator ----
const vars: Record<string, string> = {};
if (chainsOn) {
  const chainsStep = step("chains", "starting anvil (Monad stand-in) and LiteSVM (Solana stand-in)");
  let facilitatorStep: Step | null = null;
  try {
    chains = await startLocalNetwork({
      file: path.join(stateDir, "local-network.json"),
      onProgress: (p) => {
        if (p.stage === "chains") {
          chainsStep.done(`anvil ${p.evm.rpcUrl} (chain ${p.evm.chainId}, contracts deployed), LiteSVM ${p.svm.rpcUrl} (USDC mint)`);
          facilitatorStep = step("facilitator", "starting the x402 facilitator");
        } else facilitatorStep?.done(`${p.url} (x402 exact on both chains)`);
      },
    });
  } catch (err) {
    await fail(facilitatorStep ?? chainsStep, (err as Error).message);
  }
  Object.assign(vars, coordinatorVars((chains as RunningLocalNetwork).network, { trustLayer: true }), {
    // Pay workers soon and often, so a demo run shows its payouts landing.
    PAYOUT_MIN_MICRO_USD: "1000",
    PAYOUT_INTERVAL_SECONDS: "10",
  });
}

// ---- coordinator ----
const profile = chainsOn ? "local" : "default";
const coordinatorStep = step("coordinator", `starting wrangler dev (profile ${profile})`);
try {
  // The /worker page is a static asset of the coordinator (wrangler.toml `[assets]`).
  await ensureWorkerPage();
} catch (err) {
  await fail(coordinatorStep, `building the worker page: ${(err as Error).message}`);
}
const isReadinessProbe = (line: string): boolean => /\bHEAD \/monad\/v1\/health\b/.test(line);
const logLevel = verbose ? "info" : "warn";
const wranglerArgs = [
  WRANGLER_BIN,
  "dev",
  ...(chainsOn ? ["--env", "local"] : []),
  "--port",
  values.port,
  "--ip",
  "127.0.0.1",
  "--inspector-port",
  String(await freePort()),
  "--log-level",
  logLevel,
  "--show-interactive-dev-session=false",
  ...(values["state-dir"] ? ["--persist-to", path.join(stateDir, "wrangler-state")] : []),
  ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
];
const wranglerColor = useColor ? {} : { NO_COLOR: "1" };
const coordinator = run("coordinator", wranglerArgs, { ...wranglerEnv(root), WRANGLER_LOG: logLevel, ...wranglerColor }, (line) => {
  if (live && !isReadinessProbe(line)) out(prefixed("coordinator", line));
});
const ready = await coordinatorReady(60_000);
if (ready !== true) {
  if (!verbose) for (const line of coordinator.tail.slice(-15)) out(prefixed("coordinator", line));
  await fail(coordinatorStep, ready);
}
coordinatorStep.done(`${base}/monad and ${base}/solana (payments ${chainsOn ? "x402" : "off"})`);

/**
 * True once the coordinator answers health (HEAD: no body, and the one request line that
 * `--verbose` filters out), or why not.
 */
async function coordinatorReady(timeoutMs: number): Promise<true | string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (coordinator.proc.exitCode !== null) return "wrangler exited";
    try {
      const res = await fetch(`${base}/monad/v1/health`, { method: "HEAD", signal: AbortSignal.timeout(10_000) });
      if (res.ok) return true;
      const body = (await (await fetch(`${base}/monad/v1/health`)).json().catch(() => ({}))) as { message?: string };
      return `health answered ${res.status}: ${body.message ?? "no message"}`;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return `no answer within ${timeoutMs / 1000} s`;
}

// ---- workers ----
interface WorkerState {
  name: string;
  starting?: Record<string, unknown>;
  registered: boolean;
  /** The coordinator checked its key signature (else PUBLIC jobs only). */
  verified?: boolean;
}
const workers: WorkerState[] = [];
const haveGguf = existsSync(values.gguf);
if (!values["no-workers"]) {
  const keys = path.join(stateDir, "keys");
  mkdirSync(keys, { recursive: true });
  const workersStep = step("workers", "starting 4 workers");
  let settle: () => void = () => {};
  const allRegistered = new Promise<void>((r) => {
    settle = r;
  });
  for (const chain of ["monad", "solana"]) {
    for (const type of ["desktop", "seeker"]) {
      const state: WorkerState = { name: `${chain}/${type}`, registered: false };
      workers.push(state);
      const args = ["worker-node/cli.ts", "--log-format", "json", "--coordinator", base, "--chain", chain, "--type", type];
      args.push("--key", path.join(keys, `${chain}-${type}.json`));
      args.push("--payout-address", await localPayoutAddress(chain as Chain, type));
      if (type === "desktop" && haveGguf) args.push("--gguf", values.gguf);
      run(state.name, args, process.env, (line) => {
        let record: Record<string, unknown> | null = null;
        try {
          record = JSON.parse(line) as Record<string, unknown>;
        } catch {}
        if (record?.msg === "worker starting") state.starting = record;
        if (record?.msg === "registered" && !state.registered) {
          state.registered = true;
          state.verified = record.verified === true;
          const n = workers.filter((w) => w.registered).length;
          workersStep.update(`${n} of 4 registered`);
          if (n === 4) settle();
        }
        if (live) out(prefixed(state.name, record ? workerLine(record) : line));
      });
    }
  }
  const timedOut = await Promise.race([allRegistered.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 60_000))]);
  if (timedOut) {
    const missing = workers.filter((w) => !w.registered).map((w) => w.name);
    for (const c of children.filter((c) => missing.includes(c.name))) for (const line of c.tail.slice(-5)) out(prefixed(c.name, line));
    await fail(workersStep, `not registered within 60 s: ${missing.join(", ")}`);
  }
  workersStep.done(`4 of 4 registered, ${workers.filter((w) => w.verified).length} with verified keys`);
}

// ---- summary ----
const describe = (w: WorkerState): string => {
  const type = w.name.split("/")[1] ?? "";
  const caps = String(w.starting?.capabilities ?? "?").replaceAll(",", " + ");
  const llm = w.starting?.llm && w.starting.llm !== "none" ? `, LLM: ${String(w.starting.llm)}` : "";
  return `${type} (${caps}${llm})`;
};
const byChain = (chain: string): string =>
  workers
    .filter((w) => w.name.startsWith(`${chain}/`))
    .map(describe)
    .join(", ");
const networkFile = path.relative(root, chains?.file ?? "") || (chains?.file ?? "");
const monadRpc = chains?.network.chains.monad.rpcUrl ?? "";
out(`
${bold("Dispatch local network is up")}
  coordinator   ${base}/monad  and  ${base}/solana   (bare ${base}/v1 = monad)
  workers       ${workers.length === 0 ? "none (--no-workers)" : `monad: ${byChain("monad")}`}${workers.length === 0 ? "" : `\n                solana: ${byChain("solana")}`}
  LLM backend   ${haveGguf ? `Ollama if one answers on 127.0.0.1:11434, else the embedded GGUF ${path.relative(root, values.gguf)}` : "Ollama if one answers (no GGUF found: pass --gguf for the embedded backend)"}
  payments      ${chains ? `x402 on both chains via ${chains.network.facilitatorUrl} (seeker keys in ${networkFile})` : "disabled (--no-chains)"}
  trust layer   ${chains ? `ERC-8004 + receipt anchoring on anvil ${monadRpc}` : "off"}

Try it:
  curl -s ${base}/monad/v1/health
  npm run demo                     # the three scenarios on both chains, paid with the local seeker keys
  npm run dispatch -- quote task${chains ? '\n  # paying from the CLI: DISPATCH_EVM_PRIVATE_KEY=<a monad seeker key from the file above> npm run dispatch -- run task summarize "..."' : ""}

Below: worker activity and coordinator errors${verbose ? " and requests" : " (--verbose adds wrangler's request log)"}. Ctrl-C stops everything.
`);
live = true;
