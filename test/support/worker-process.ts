import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const CLI = path.join(repoRoot, "worker-node", "cli.ts");

export type LogLine = Record<string, unknown> & { msg: string; level: string };

export interface WorkerProcess {
  proc: ChildProcess;
  /** Every JSON log line so far. */
  lines: LogLine[];
  /** Resolves with the first log line (past or future) that matches. */
  waitFor(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** The worker's public key, from its startup line. */
  pubkey: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/** Spawns `worker-node/cli.ts` as a real process with JSON logs, and waits for its startup line. */
export async function startWorker(args: string[], env: Record<string, string> = {}): Promise<WorkerProcess> {
  const proc = spawn(process.execPath, [CLI, "--log-format", "json", ...args], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  const lines: LogLine[] = [];
  const watchers = new Set<(line: LogLine) => void>();
  let raw = "";
  let pending = "";
  proc.stderr?.on("data", (d: Buffer) => {
    raw += d.toString();
    pending += d.toString();
    const parts = pending.split("\n");
    pending = parts.pop() ?? "";
    for (const part of parts) {
      let line: LogLine;
      try {
        line = JSON.parse(part) as LogLine;
      } catch {
        continue;
      }
      lines.push(line);
      for (const w of watchers) w(line);
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once("exit", (code, signal) => resolve({ code, signal }));
  });
  const waitFor = (match: (line: LogLine) => boolean, timeoutMs = 20_000): Promise<LogLine> => {
    const seen = lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        watchers.delete(watch);
        reject(new Error(`worker log line not seen in ${timeoutMs} ms; stderr:\n${raw.slice(-3_000)}`));
      }, timeoutMs);
      const watch = (line: LogLine): void => {
        if (!match(line)) return;
        clearTimeout(timer);
        watchers.delete(watch);
        resolve(line);
      };
      watchers.add(watch);
      void exited.then(() => {
        if (!watchers.has(watch)) return;
        clearTimeout(timer);
        watchers.delete(watch);
        reject(new Error(`worker exited before the log line; stderr:\n${raw.slice(-3_000)}`));
      });
    });
  };
  const starting = await waitFor((l) => l.msg === "worker starting", 30_000);
  return { proc, lines, waitFor, pubkey: String(starting.pubkey), exited, stderr: () => raw };
}
