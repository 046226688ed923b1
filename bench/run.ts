// `npm run bench [-- --quick] [-- --only=coordinator|path|hostile|scale|hop|worker|quality]`: every benchmark, figures on stdout.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { coordinatorBench } from "./coordinator-load.ts";
import { hostileBench } from "./hostile.ts";
import { jobPathBench } from "./job-path.ts";
import { scaleBench } from "./scale.ts";
import { shardHopBench } from "./shard-hop.ts";

const quick = process.argv.includes("--quick");
const only = process.argv.find((a) => a.startsWith("--only="))?.slice(7);
const here = path.dirname(fileURLToPath(import.meta.url));

console.log(`# Dispatch benchmarks (${new Date().toISOString()}, node ${process.version}, ${quick ? "quick" : "full"})`);
if (!only || only === "coordinator") {
  console.log("\n## Coordinator: commit -> assign -> complete -> long-poll result");
  await coordinatorBench(quick);
}
if (!only || only === "path") {
  console.log("\n## Where one job's time goes: 1 worker, 1 seeker, commit?wait (workerd)");
  await jobPathBench(quick ? 200 : 500);
}
if (!only || only === "hostile") {
  console.log("\n## Abuse: honest load alone, then alongside every attack at once (workerd, no dev proxy)");
  await hostileBench(quick);
}
if (!only || only === "scale") {
  console.log("\n## Scale of one chain object: connected workers, memory, latency and ceiling (workerd)");
  await scaleBench(quick);
}
if (!only || only === "hop") {
  console.log("\n## One more Durable Object hop (the cost of sharding, docs/SCALING.md)");
  await shardHopBench(quick ? 1_000 : 3_000);
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
