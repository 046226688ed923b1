// `npm run bench [-- --quick] [-- --only=coordinator|hostile|worker|quality]`: every benchmark, figures on stdout.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { coordinatorBench } from "./coordinator-load.ts";
import { hostileBench } from "./hostile.ts";

const quick = process.argv.includes("--quick");
const only = process.argv.find((a) => a.startsWith("--only="))?.slice(7);
const here = path.dirname(fileURLToPath(import.meta.url));

console.log(`# Dispatch benchmarks (${new Date().toISOString()}, node ${process.version}, ${quick ? "quick" : "full"})`);
if (!only || only === "coordinator") {
  console.log("\n## Coordinator: commit -> assign -> complete -> long-poll result");
  await coordinatorBench(quick);
}
if (!only || only === "hostile") {
  console.log("\n## Abuse: honest load alone, then alongside every attack at once (workerd, no dev proxy)");
  await hostileBench(quick);
}
if (!only || only === "worker") {
  console.log("\n## Worker node: TASK executions/s per core, embedded LLM tokens/s");
  // Its own process: it loads models and pins a core, and must not share an event loop with the load test.
  const run = spawnSync(process.execPath, [path.join(here, "worker-tasks.ts"), "--seconds", quick ? "1" : "2"], { stdio: "inherit" });
  if (run.status !== 0) process.exitCode = 1;
}
if (!only || only === "quality") {
  console.log("\n## TASK quality (hand-labelled sets in bench/data) and TASK thread start-up");
  for (const [script, args] of [
    ["task-quality.ts", quick ? ["--quick"] : []],
    ["task-startup.ts", []],
  ] as const) {
    const run = spawnSync(process.execPath, [path.join(here, script), ...args], { stdio: "inherit" });
    if (run.status !== 0) process.exitCode = 1;
  }
}
