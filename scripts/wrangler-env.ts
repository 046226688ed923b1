import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** wrangler's own entry point, run with the current (the project's) Node. */
export const WRANGLER_BIN = path.join(repoRoot, "node_modules", "wrangler", "bin", "wrangler.js");

/** `wrangler types` as the project runs it: only the Env (the runtime types come from @cloudflare/workers-types), vars as plain strings. */
export const TYPES_ARGS = ["types", "coordinator/worker-configuration.d.ts", "--include-runtime=false", "--strict-vars=false"];

/**
 * Environment for running wrangler offline: no telemetry, no Cloudflare lookups, and its
 * config/cache inside the repository so a fresh machine (or CI) needs no login or home dir.
 */
export function wranglerEnv(root: string = repoRoot, home = path.join(root, ".tmp", "wrangler-home")): NodeJS.ProcessEnv {
  mkdirSync(home, { recursive: true });
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_LOG: process.env.WRANGLER_LOG ?? "info",
    XDG_CONFIG_HOME: home,
  };
}

/** Runs wrangler to completion in the repository with {@link wranglerEnv}; returns its exit code and output. */
export function runWrangler(
  args: string[],
  options: { inherit?: boolean; logLevel?: "log" | "info" | "warn" } = {},
): { status: number; output: string } {
  const result = spawnSync(process.execPath, [WRANGLER_BIN, ...args], {
    cwd: repoRoot,
    // "log" is wrangler's chattiest level short of debug: the bundle size line is logged there.
    env: { ...wranglerEnv(), NO_COLOR: "1", ...(options.logLevel ? { WRANGLER_LOG: options.logLevel } : {}) },
    encoding: "utf8",
    stdio: options.inherit ? "inherit" : "pipe",
  });
  return { status: result.status ?? 1, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}
