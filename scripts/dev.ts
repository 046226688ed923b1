// `npm run dev`: the coordinator under `wrangler dev`, serving both chains
// (http://127.0.0.1:8787/monad and /solana). Extra arguments go to wrangler.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensureWorkerPage } from "./build-worker-page.ts";
import { wranglerEnv } from "./wrangler-env.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// The /worker page is a static asset of the coordinator (wrangler.toml `[assets]`).
await ensureWorkerPage();
const child = spawn("wrangler", ["dev", ...process.argv.slice(2)], { cwd: root, env: wranglerEnv(root), stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
