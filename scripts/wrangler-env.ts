import { mkdirSync } from "node:fs";
import path from "node:path";

/**
 * Environment for running wrangler offline: no telemetry, no Cloudflare lookups, and its
 * config/cache inside the repository so a fresh machine (or CI) needs no login or home dir.
 */
export function wranglerEnv(repoRoot: string, home = path.join(repoRoot, ".tmp", "wrangler-home")): NodeJS.ProcessEnv {
  mkdirSync(home, { recursive: true });
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_LOG: process.env.WRANGLER_LOG ?? "info",
    XDG_CONFIG_HOME: home,
  };
}
