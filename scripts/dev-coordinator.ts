// The coordinator under `wrangler dev` on a free port with throwaway state: the one launcher
// that tests, the demo (when it runs a network of its own) and the load benchmark share.
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensureWorkerPage } from "./build-worker-page.ts";
import { WRANGLER_BIN, wranglerEnv } from "./wrangler-env.ts";

export interface DevCoordinator {
  /** Base URL, e.g. http://127.0.0.1:41234 (chain prefixes go after it). */
  url: string;
  /** Kills wrangler's whole process group and deletes the persisted state. */
  stop(): Promise<void>;
  /** Kills and starts wrangler again on the same port with the same persisted state. */
  restart(): Promise<void>;
  /** The last 50 kB wrangler wrote, for diagnosing a failure. */
  output(): string;
  /** Resident memory (bytes) of the workerd processes serving this coordinator (Linux /proc), or null. */
  memory(): Promise<number | null>;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const START_TIMEOUT_MS = 30_000;

/**
 * Runs the real coordinator under `wrangler dev` (workerd) on a free port with its Durable
 * Object state in a temporary directory, and waits until `/monad/v1/health` answers.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface CoordinatorOptions {
  /** Extra `[vars]` for this run (payments, chain RPC, contract addresses, keys), passed as `--var K:V`. */
  vars?: Record<string, string>;
}

export async function startCoordinator(options: CoordinatorOptions = {}): Promise<DevCoordinator> {
  // The /worker page is a static asset: wrangler refuses to start without its directory.
  await ensureWorkerPage();
  const varArgs = Object.entries(options.vars ?? {}).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const stateDir = await mkdtemp(path.join(os.tmpdir(), "dispatch-coordinator-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let log = "";
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const inspectorPort = await freePort();
    const proc = spawn(
      process.execPath,
      [
        WRANGLER_BIN,
        "dev",
        "--ip",
        "127.0.0.1",
        "--port",
        String(port),
        "--inspector-port",
        String(inspectorPort),
        ...varArgs,
        "--persist-to",
        path.join(stateDir, "state"),
      ],
      {
        cwd: repoRoot,
        // Own process group, so stop() can kill wrangler and the workerd it spawns together.
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        // Config and logs in this run's own directory, out of the user's home.
        env: {
          ...wranglerEnv(repoRoot, path.join(stateDir, "config")),
          WRANGLER_LOG_PATH: path.join(stateDir, "logs"),
          NO_COLOR: "1",
          CI: "1",
        },
      },
    );
    child = proc;
    // The tail is what a failure message needs; a long run must not grow without bound.
    const collect = (d: Buffer): void => {
      log = (log + d.toString()).slice(-50_000);
    };
    proc.stdout?.on("data", collect);
    proc.stderr?.on("data", collect);
    const exited = new Promise<never>((_, reject) => {
      proc.once("exit", (code, signal) =>
        reject(new Error(`wrangler dev exited (${code ?? signal}) before it was ready:\n${log.slice(-4_000)}`)),
      );
    });
    exited.catch(() => undefined);
    await Promise.race([waitForHealth(url), exited]);
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc?.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    try {
      process.kill(-proc.pid, "SIGKILL");
    } catch {
      // already gone
    }
    await gone;
    await waitForPortFree(port);
  };

  await launch();
  return {
    url,
    output: () => log,
    memory: () => (child?.pid === undefined ? Promise.resolve(null) : groupRss(child.pid, "workerd")),
    stop: async () => {
      await kill();
      await rm(stateDir, { recursive: true, force: true });
    },
    restart: async () => {
      await kill();
      await launch();
    },
  };
}

/** Sum of VmRSS of the processes named `name` in process group `pgid`, from /proc (Linux only). */
async function groupRss(pgid: number, name: string): Promise<number | null> {
  let total = 0;
  let found = false;
  let entries: string[];
  try {
    entries = await readdir("/proc");
  } catch {
    return null;
  }
  for (const pid of entries.filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, "utf8");
      // Fields after the parenthesised command: state, ppid, pgrp, ...
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const pgrp = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
      if (pgrp !== pgid || !comm.startsWith(name)) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, "utf8"));
      if (rss) {
        total += Number(rss[1]) * 1024;
        found = true;
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return found ? total : null;
}

async function waitForHealth(url: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/monad/v1/health`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`coordinator at ${url} not healthy after ${START_TIMEOUT_MS} ms (${last})`);
}

async function waitForPortFree(port: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (free) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
