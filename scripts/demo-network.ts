// The processes the demo may own: a coordinator under `wrangler dev` and worker-node agents.
// Everything it starts it also stops, process group by process group.
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import type { Chain } from "../protocol/index.ts";

export interface WorkerChild {
  name: string;
  pubkey: string;
  proc: ChildProcess;
  /** Resolves with the first JSON log line (past or future) whose `msg` is one of `msgs`. */
  waitForLog(msgs: string[], timeoutMs: number): Promise<Record<string, unknown>>;
  /** The last log lines, for a failure message. */
  tail(): string;
  stop(): Promise<void>;
}

export interface WorkerSpec {
  name: string;
  coordinator: string;
  chain: Chain;
  type: "desktop" | "seeker";
  keyFile: string;
  gguf?: string;
  llmBackend?: "auto" | "embedded" | "none";
  trustCode?: string;
  /** Where the coordinator pays this worker's earnings on its chain. */
  payoutAddress?: string;
}

/** True when `${base}/monad/v1/health` answers 200 within two seconds. */
export async function coordinatorAnswers(base: string): Promise<boolean> {
  try {
    const res = await fetch(`${base}/monad/v1/health`, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** Kills a detached child's whole process group: SIGTERM, then SIGKILL after `graceMs`. */
async function killGroup(proc: ChildProcess, graceMs: number): Promise<void> {
  if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-(proc.pid as number), sig);
    } catch {
      // already gone
    }
  };
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), graceMs);
  await gone;
  clearTimeout(timer);
}

/** Starts `worker-node/cli.ts` with JSON logs and resolves once it has announced its key. */
export async function startWorker(repoRoot: string, spec: WorkerSpec): Promise<WorkerChild> {
  const args = [
    path.join(repoRoot, "worker-node", "cli.ts"),
    "--log-format",
    "json",
    "--coordinator",
    spec.coordinator,
    "--chain",
    spec.chain,
    "--type",
    spec.type,
    "--key",
    spec.keyFile,
  ];
  if (spec.gguf !== undefined) args.push("--gguf", spec.gguf);
  if (spec.llmBackend !== undefined) args.push("--llm-backend", spec.llmBackend);
  if (spec.trustCode !== undefined) args.push("--trust-code", spec.trustCode);
  if (spec.payoutAddress !== undefined) args.push("--payout-address", spec.payoutAddress);
  const proc = spawn(process.execPath, args, { cwd: repoRoot, detached: true, stdio: ["ignore", "ignore", "pipe"] });

  const lines: Record<string, unknown>[] = [];
  const watchers = new Set<() => void>();
  let raw = "";
  let partial = "";
  proc.stderr?.on("data", (d: Buffer) => {
    raw = (raw + d.toString()).slice(-8_000);
    const parts = (partial + d.toString()).split("\n");
    partial = parts.pop() ?? "";
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part) as Record<string, unknown>);
      } catch {}
    }
    for (const w of watchers) w();
  });
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const tail = (): string => raw.trim().split("\n").slice(-12).join("\n");

  const waitForLog = (msgs: string[], timeoutMs: number): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = lines.find((l) => msgs.includes(String(l.msg)));
        if (!hit) return false;
        done();
        resolve(hit);
        return true;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${spec.name}: no "${msgs.join('" or "')}" log line within ${timeoutMs / 1000} s; its last lines:\n${tail()}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        watchers.delete(watch);
      };
      const watch = (): void => void check();
      if (check()) return;
      watchers.add(watch);
      void exited.then(() => {
        if (!watchers.has(watch) || check()) return;
        done();
        reject(new Error(`${spec.name} exited (${proc.exitCode ?? proc.signalCode}); its last lines:\n${tail()}`));
      });
    });

  const stop = (): Promise<void> => killGroup(proc, 5_000);
  try {
    const starting = await waitForLog(["worker starting"], 30_000);
    return { name: spec.name, pubkey: String(starting.pubkey), proc, waitForLog, tail, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
