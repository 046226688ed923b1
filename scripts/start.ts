// `npm start`: the whole local network in one command. The local chains (anvil with our
// contracts, LiteSVM with USDC) and the x402 facilitator, the coordinator under `wrangler dev`
// (both chains, payments on, ERC-8004 and anchoring on), then per chain one desktop worker
// (LLM + TASK) and one seeker worker (TASK). Ctrl-C stops everything, workers first.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { coordinatorVars } from "../chains/coordinator-vars.ts";
import { type RunningLocalNetwork, startLocalNetwork } from "../chains/local-network.ts";
import { wranglerEnv } from "./wrangler-env.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    port: { type: "string", default: process.env.DISPATCH_PORT ?? "8787" },
    gguf: { type: "string", default: process.env.DISPATCH_GGUF ?? path.resolve(root, "../shared/models/stories260K-f16.gguf") },
    "no-workers": { type: "boolean", default: false },
    "no-chains": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log(`npm start [-- options]
  --port N        coordinator port (env DISPATCH_PORT; default 8787)
  --gguf PATH     GGUF model for the embedded LLM backend when no Ollama answers
                  (env DISPATCH_GGUF; default ../shared/models/stories260K-f16.gguf)
  --no-workers    start no workers
  --no-chains     no local chains: payments disabled, no ERC-8004 or anchoring`);
  process.exit(0);
}

const base = `http://127.0.0.1:${values.port}`;
const children: { name: string; proc: ChildProcess }[] = [];
const colors = ["\x1b[36m", "\x1b[35m", "\x1b[33m", "\x1b[32m", "\x1b[34m"];
let stopping = false;

function run(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const proc = spawn(command, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  const color = colors[children.length % colors.length] ?? "";
  const prefix = `${color}${name.padEnd(16)}\x1b[0m| `;
  for (const stream of [proc.stdout, proc.stderr]) {
    let partial = "";
    stream?.on("data", (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) process.stdout.write(prefix + line + "\n");
    });
  }
  proc.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`${prefix}exited (${code ?? signal}); stopping the network`);
      void stop(1);
    }
  });
  children.push({ name, proc });
  return proc;
}

async function waitHealthy(url: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${ms / 1000} s`);
}

let chains: RunningLocalNetwork | null = null;

async function stop(code: number): Promise<never> {
  stopping = true;
  // Workers first (SIGTERM: they finish in-flight jobs), then the coordinator.
  const order = [...children].reverse();
  for (const { proc } of order) if (proc.exitCode === null) proc.kill("SIGTERM");
  await Promise.race([
    Promise.all(order.map(({ proc }) => (proc.exitCode === null ? new Promise((r) => proc.once("exit", r)) : null))),
    new Promise((r) => setTimeout(r, 15_000)),
  ]);
  for (const { proc } of order) if (proc.exitCode === null) proc.kill("SIGKILL");
  await chains?.stop();
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

console.log(`Starting the Dispatch local network on ${base} ...`);
const vars: Record<string, string> = {};
if (!values["no-chains"]) {
  chains = await startLocalNetwork();
  const { monad, solana } = chains.network.chains;
  Object.assign(vars, coordinatorVars(chains.network, { trustLayer: true }), { ANCHOR_INTERVAL_SECONDS: "10" });
  console.log(`local chains up: anvil ${monad.rpcUrl}, LiteSVM ${solana.rpcUrl}, facilitator ${chains.network.facilitatorUrl}`);
  console.log(`  addresses and funded seeker keys: ${path.relative(root, chains.file ?? "")}`);
}
const varArgs = Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
run("coordinator", "wrangler", ["dev", "--port", String(values.port), "--ip", "127.0.0.1", ...varArgs], wranglerEnv(root));
await waitHealthy(`${base}/monad/v1/health`);

const haveGguf = existsSync(values.gguf);
if (!values["no-workers"]) {
  const keys = path.join(root, ".dispatch", "keys");
  mkdirSync(keys, { recursive: true });
  for (const chain of ["monad", "solana"]) {
    for (const type of ["desktop", "seeker"]) {
      const args = [
        "worker-node/cli.ts",
        "--coordinator",
        base,
        "--chain",
        chain,
        "--type",
        type,
        "--key",
        path.join(keys, `${chain}-${type}.json`),
      ];
      if (type === "desktop" && haveGguf) args.push("--gguf", values.gguf);
      run(`${chain}/${type}`, process.execPath, args);
    }
  }
  // Wait (bounded) for the workers to register, so the summary shows the network as it is.
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const online = await Promise.all(
      ["monad", "solana"].map(
        async (c) => ((await (await fetch(`${base}/${c}/v1/health`)).json()) as { workers_online: number }).workers_online,
      ),
    );
    if (online.every((n) => n >= 2)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
}

const health = await Promise.all(
  ["monad", "solana"].map(async (c) => (await (await fetch(`${base}/${c}/v1/health`)).json()) as { workers_online: number }),
);
console.log(`
\x1b[1mDispatch local network is up\x1b[0m
  coordinator   ${base}/monad  and  ${base}/solana   (bare ${base}/v1 = monad)
  workers       monad: ${health[0]?.workers_online ?? 0} online, solana: ${health[1]?.workers_online ?? 0} online
  LLM backend   ${haveGguf ? `Ollama if one answers on 127.0.0.1:11434, else the embedded GGUF ${path.relative(root, values.gguf)}` : "Ollama if one answers (no GGUF found: pass --gguf for the embedded backend)"}
  payments      ${chains ? `x402 on both chains via ${chains.network.facilitatorUrl} (seeker keys in ${path.relative(root, chains.file ?? "")})` : "disabled (--no-chains)"}
  trust layer   ${chains ? `ERC-8004 + receipt anchoring on anvil ${chains.network.chains.monad.rpcUrl}` : "off"}

Try it:
  curl -s ${base}/monad/v1/health
  npm run demo                     # the three scenarios on both chains, paid with the local seeker keys
  npm run dispatch -- quote task${chains ? '\n  # paying from the CLI: DISPATCH_EVM_PRIVATE_KEY=<a monad seeker key from the file above> npm run dispatch -- run task summarize "..."' : ""}

Ctrl-C stops everything.
`);
