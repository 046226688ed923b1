import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { createInterface } from "node:readline";

/** Chain id of Monad testnet; the local stand-in uses it so CAIP-2 ids match (`eip155:10143`). */
export const LOCAL_CHAIN_ID = 10143;

/** anvil's well-known dev mnemonic; its accounts are pre-funded with 10,000 ETH each. */
export const ANVIL_MNEMONIC = "test test test test test test test test test test test junk";

export type AnvilOptions = {
  chainId?: number;
  /** Extra anvil flags, e.g. `["--block-time", "1"]`. */
  args?: string[];
  /** How long to wait for the RPC to answer before giving up. */
  readyTimeoutMs?: number;
};

export type Anvil = {
  rpcUrl: string;
  port: number;
  chainId: number;
  /** Stops the process; resolves once it has exited. Safe to call twice. */
  stop(): Promise<void>;
};

const ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64" };

/** Path of the anvil binary shipped in the platform package of `@foundry-rs/anvil` (or `$ANVIL_BIN`). */
export function anvilBinary(): string {
  if (process.env.ANVIL_BIN) return process.env.ANVIL_BIN;
  const arch = ARCH[process.arch];
  if (!arch) throw new Error(`no anvil build for ${process.platform}/${process.arch}; set ANVIL_BIN`);
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = join(require.resolve(`${pkg}/package.json`), "..");
  } catch {
    throw new Error(`${pkg} is not installed: run npm install (it is an optional dependency of @foundry-rs/anvil)`);
  }
  return join(dir, "bin", process.platform === "win32" ? "anvil.exe" : "anvil");
}

/** Starts anvil on a free localhost port (anvil binds port 0 and reports it) and waits until RPC answers. */
export async function startAnvil(options: AnvilOptions = {}): Promise<Anvil> {
  const chainId = options.chainId ?? LOCAL_CHAIN_ID;
  const timeoutMs = options.readyTimeoutMs ?? 10_000;
  const child = spawn(anvilBinary(), ["--host", "127.0.0.1", "--port", "0", "--chain-id", String(chainId), ...(options.args ?? [])], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  // An orphaned anvil would hold its port and CPU after a crashed test run.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const stop = () => stopProcess(child).finally(() => process.removeListener("exit", killOnExit));

  try {
    const port = await listeningPort(child, timeoutMs);
    const rpcUrl = `http://127.0.0.1:${port}`;
    await waitForRpc(rpcUrl, chainId, timeoutMs);
    return { rpcUrl, port, chainId, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

// anvil prints "Listening on 127.0.0.1:PORT" once bound; stderr is kept for the error message.
function listeningPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const stdout = child.stdout;
    if (!stdout) return reject(new Error("anvil stdout is not piped"));
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    const timer = setTimeout(() => fail(`anvil did not report a port within ${timeoutMs} ms`), timeoutMs);
    const lines = createInterface({ input: stdout });
    const fail = (message: string) => {
      clearTimeout(timer);
      lines.close();
      reject(new Error(stderr ? `${message}: ${stderr.trim()}` : message));
    };
    lines.on("line", (line) => {
      const match = /Listening on [\d.]+:(\d+)/.exec(line);
      if (!match?.[1]) return;
      clearTimeout(timer);
      lines.close();
      // Keep draining stdout so anvil never blocks on a full pipe.
      stdout.resume();
      resolve(Number(match[1]));
    });
    child.once("error", (err) => fail(`anvil failed to start: ${err.message}`));
    child.once("exit", (code, signal) => fail(`anvil exited early (code ${code}, signal ${signal})`));
  });
}

async function waitForRpc(rpcUrl: string, chainId: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "no answer";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(rpcUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      });
      const body = (await res.json()) as { result?: string };
      if (body.result && Number(body.result) === chainId) return;
      lastError = `unexpected eth_chainId answer ${JSON.stringify(body)}`;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`anvil RPC at ${rpcUrl} not ready after ${timeoutMs} ms: ${lastError}`);
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 3_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
